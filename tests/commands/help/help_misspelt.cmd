# help of an unknown name: a usage error that says so and offers the close name
$ mergelang help tie
exit 2
stdout empty
stderr has ^mergelang: help: no command or built-in named 'tie'$
stderr has ^  hint: did you mean 'ties'?$
