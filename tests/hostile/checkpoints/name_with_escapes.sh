# A tensor name holding terminal escapes (set the title, clear the screen),
# twice: the message naming it must not print them raw.
st ck/name_with_escapes "{\"\\u001b]0;owned\\u0007\\u001b[2J\":{$T},\"\\u001b]0;owned\\u0007\\u001b[2J\":{$T}}" 8
