/* mergekit_import.h - `mergelang import-mergekit config.yml [-o recipe.merge]`:
 * translates a mergekit YAML configuration into an equivalent recipe. */
#ifndef MERGELANG_MERGEKIT_IMPORT_H
#define MERGELANG_MERGEKIT_IMPORT_H

/* argv[0] is "import-mergekit". Returns the process exit status. */
int mkimport_main(int argc, char **argv);

#endif
