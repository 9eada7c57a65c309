# compressed-tensors FP8: weight F8_E4M3 with a per-tensor weight_scale.
H='{"l.weight":{"dtype":"F8_E4M3","shape":[4],"data_offsets":[0,4]},"l.weight_scale":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"l.input_scale":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}'
st ck/scaled_fp8_tensor "$H" 12
