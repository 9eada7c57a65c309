# A header that is not JSON.
st ck/header_not_json '{"w": {"dtype": "F32", "shape": [2], oops}}' 8
