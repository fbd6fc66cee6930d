/* The control for the no-malloc link: this calls malloc, so linking it with
 * the same --wrap flags must fail with an undefined __wrap_malloc. If it
 * linked, the proof in nomalloc_client.c would prove nothing. The pointer
 * goes through a volatile global so an optimiser cannot drop the
 * malloc/free pair (clang -O2 does, otherwise). */
#include <stdlib.h>

void *volatile wrap_control_keep;

int main(int argc, char **argv)
{
    (void)argv;
    wrap_control_keep = malloc((size_t)argc * 16u);
    free(wrap_control_keep);
    return 0;
}
