/* packosctl's rendering of `trace show` for people: the steps numbered, one per line, with
 * the time since the first and who acted, under a heading for each run of steps in the
 * same stage of the seed's figure. `--json` prints the answer as any other. */
#ifndef PACKOS_SIM_TRACE_RENDER_H
#define PACKOS_SIM_TRACE_RENDER_H

#include <stdio.h>

#include "control_wire.h"

/* Renders a successful `trace show` answer (trace_steps.h) on out. Returns 0, or -1 if
 * the answer lacks the trace's sections or columns, or writing failed. */
int trace_render_steps(const struct ctl_response *response, FILE *out);

#endif
