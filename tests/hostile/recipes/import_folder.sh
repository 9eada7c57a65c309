# An import of a folder named like a recipe.
mkdir -p folder.merge
printf 'import "folder.merge"\n'
