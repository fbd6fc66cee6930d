/*
 * A DECLARATION SUBSET of RT-Thread's finsh.h (4.1/5.0) for compile checks:
 * MSH_CMD_EXPORT places a command record in the FSymTab section the way the
 * real macro does (name, description, function). Not linked or run here.
 * The real macro casts the command straight to syscall_func, which GCC's
 * -Wcast-function-type (in -Wextra) flags in every msh command; here the
 * cast goes through void (*)(void), GCC's documented escape, so the check
 * stays -Werror clean.
 */
#ifndef __FINSH_H__
#define __FINSH_H__

typedef long (*syscall_func)(void);

struct finsh_syscall {
    const char *name;
    const char *desc;
    syscall_func func;
};

#define MSH_CMD_EXPORT_ALIAS(command, alias, desc)                                                 \
    const char __fsym_##alias##_name[] = #alias;                                                   \
    const char __fsym_##alias##_desc[] = #desc;                                                    \
    __attribute__((used)) const struct finsh_syscall __fsym_##alias                                \
        __attribute__((section("FSymTab"))) = {__fsym_##alias##_name, __fsym_##alias##_desc,      \
                                                (syscall_func)(void (*)(void)) & command}
#define MSH_CMD_EXPORT(command, desc) MSH_CMD_EXPORT_ALIAS(command, command, desc)

#endif
