#include "core/flags.h"

static const struct {
    const char *name;
    const char *diagnosis;
} flag_table[MW_FLAG_COUNT] = {
#define MW_FLAG_ROW(e, name, diag) [MW_FLAG_##e] = { name, diag },
    MW_FLAG_LIST(MW_FLAG_ROW)
#undef MW_FLAG_ROW
};

const char *mw_flag_name(mw_flag f)
{
    return (unsigned)f < MW_FLAG_COUNT ? flag_table[f].name : "?";
}

const char *mw_flag_diagnosis(mw_flag f)
{
    return (unsigned)f < MW_FLAG_COUNT ? flag_table[f].diagnosis : "";
}
