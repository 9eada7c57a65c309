# Block-scaled FP8 (DeepSeek-V3, Qwen3-FP8): the raw F8_E4M3 values are not
# the weights without weight_scale_inv; refused at model(), naming the first
# tensor and the count.
H='{"a.weight":{"dtype":"F8_E4M3","shape":[4],"data_offsets":[0,4]},"a.weight_scale_inv":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"b.weight":{"dtype":"F8_E4M3","shape":[4],"data_offsets":[8,12]},"b.weight_scale_inv":{"dtype":"F32","shape":[1],"data_offsets":[12,16]},"norm.weight":{"dtype":"BF16","shape":[2],"data_offsets":[16,20]}}'
st ck/scaled_fp8_block "$H" 20
