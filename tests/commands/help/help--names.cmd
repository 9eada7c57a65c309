# help --names (hidden, for completion): commands, topics and built-ins, one a line
$ mergelang help --names
exit 0
stdout has ^run$
stdout has ^import-mergekit$
stdout has ^methods$
stdout has ^builtins$
stdout has ^ties$
stdout has ^where$
