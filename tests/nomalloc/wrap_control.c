/* The control for the no-malloc link: this calls malloc, so linking it with
 * the same --wrap flags must fail with an undefined __wrap_malloc. If it
 * linked, the proof in nomalloc_client.c would prove nothing. */
#include <stdlib.h>

int main(void)
{
    void *p = malloc(16);
    free(p);
    return p == NULL;
}
