# Two modules importing each other.
printf 'import "import_cycle_a.merge"\n' > import_cycle_b.merge
printf 'import "import_cycle_b.merge"\n'
