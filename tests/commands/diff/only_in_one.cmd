# diff: tensors present in only one checkpoint
$ mergelang diff models/base models/renamed
stdout has ^only in A (models/base): 2 tensors$
stdout has ^  lm_head.weight$
stdout has ^  model.norm.weight$
stdout has ^only in B (models/renamed): 1 tensor$
stdout has ^  model.final_norm.weight$
stdout has ^overall: 37 common tensors, 2 only in A, 1 only in B$
