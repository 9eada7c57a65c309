/* value.c - naming and printing values; see value.h. */
#include "interp/plan/value.h"

#include "interp/plan/graph.h"

const char *val_kind_name(ValKind k) {
    switch (k) {
    case V_NONE: return "none";
    case V_BOOL: return "a boolean";
    case V_NUM: return "a number";
    case V_STR: return "a string";
    case V_LIST: return "a list";
    case V_FUNC: return "a function";
    case V_BUILTIN: return "a built-in function";
    case V_MODEL: return "a model";
    case V_LAZY: return "a per-tensor value";
    case V_TENSOR: return "a tensor";
    case V_ERROR: return "an error";
    }
    return "a value";
}

bool val_depends_on_tensor(Value v) {
    if (val_is_lazy(v)) return true;
    if (v.kind == V_LIST)
        for (size_t i = 0; i < v.u.list->n; i++)
            if (val_depends_on_tensor(v.u.list->items[i])) return true;
    return false;
}

static void print_string(const char *s, size_t len, FILE *out) {
    fputc('"', out);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') fprintf(out, "\\%c", c);
        else if (c == '\n') fputs("\\n", out);
        else if (c == '\t') fputs("\\t", out);
        else if (c < 0x20 || c == 0x7f) fprintf(out, "\\x%02x", c);
        else fputc(c, out);
    }
    fputc('"', out);
}

void val_print(Value v, FILE *out) {
    switch (v.kind) {
    case V_NONE: fputs("none", out); break;
    case V_BOOL: fputs(v.u.b ? "true" : "false", out); break;
    case V_NUM: fprintf(out, "%.9g", v.u.num); break;
    case V_STR: print_string(v.u.str.s, v.u.str.len, out); break;
    case V_LIST:
        fputc('[', out);
        for (size_t i = 0; i < v.u.list->n; i++) {
            if (i) fputs(", ", out);
            val_print(v.u.list->items[i], out);
        }
        fputc(']', out);
        break;
    case V_FUNC: fputs("<function>", out); break;
    case V_BUILTIN: fputs("<built-in>", out); break;
    case V_MODEL: {
        const TensorSet *s = v.u.node->set;
        fprintf(out, "<model: %zu tensors, %ld layers>", s ? s->n : 0, s ? s->n_layers : 0);
        break;
    }
    case V_LAZY: fputs("<per-tensor value>", out); break;
    case V_TENSOR: {
        char buf[128];
        fprintf(out, "<tensor %s %s>", shape_format(&v.u.tensor->shape, buf, sizeof buf),
                dtype_st_name(v.u.tensor->dtype));
        break;
    }
    case V_ERROR: fputs("<error>", out); break;
    }
}
