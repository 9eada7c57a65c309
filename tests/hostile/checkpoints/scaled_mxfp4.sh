# MXFP4 as in gpt-oss: U8 blocks with U8 scales (integers would otherwise
# pass through from the first model as if they were weights).
H='{"e.gate_up_proj_blocks":{"dtype":"U8","shape":[2,16],"data_offsets":[0,32]},"e.gate_up_proj_scales":{"dtype":"U8","shape":[2,1],"data_offsets":[32,34]},"e.gate_up_proj_bias":{"dtype":"BF16","shape":[2],"data_offsets":[34,38]}}'
st ck/scaled_mxfp4 "$H" 38
