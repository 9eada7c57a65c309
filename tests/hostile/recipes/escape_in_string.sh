# A terminal escape (set the title) inside a string literal.
printf 'x = "\033]0;title\007"\n'
