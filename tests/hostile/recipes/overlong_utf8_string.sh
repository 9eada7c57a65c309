# A string holding an overlong UTF-8 encoding of /.
printf 'x = model("\300\257etc")\n'
