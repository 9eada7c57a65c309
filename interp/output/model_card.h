/* model_card.h - recipe.merge and README.md for a merged checkpoint. */
#ifndef MERGELANG_MODEL_CARD_H
#define MERGELANG_MODEL_CARD_H

#include <stddef.h>

#include "interp/plan/plan.h"

/* The recipe's text with every import that ran replaced by the module's own
 * text, so it runs alone (malloc'd; NULL when the plan has no recipe). */
char *card_recipe(const Plan *p, size_t *len);
/* README.md for save r: front matter (base_model, tags: merge, mergelang,
 * library_name), the methods used with their papers, the inputs, the recipe
 * (malloc'd, NULL when out of memory). */
char *card_readme(const Plan *p, const SaveRequest *r, const char *recipe, size_t *len);

#endif
