/* Reference C implementation of Beer's visually guided agent for `evorobot bench`: whole
 * categorical-perception trials, one agent and one falling object at a time, in plain scalar loops.
 *
 * The agent (Beer 1996, "Toward the evolution of dynamical neural networks for minimally cognitive
 * behavior"; Beer 2003, "The dynamics of active categorical perception in an evolved model agent")
 * is a circle at the bottom of the world moving horizontally. Each tick:
 *   1. sense: R distance rays leave the body's perimeter; ray r reads d = distance to the object
 *      (range when missed, 0 when it starts inside a circle or polygon) and gives the input
 *      gain * (range - d) / range;
 *   2. think: one forward-Euler step of the CTRNN in Beer's order (every state from the previous
 *      outputs, then all outputs), inputs summed before recurrent weights;
 *   3. act: vx = motor_gain * (o[first] - o[first + 1]), cut so that x lands exactly on +-x_limit;
 *      a non-finite command fails the trial;
 *   4. move: agent and object advance kinematically, p += (v + 0) h per substep (Chipmunk's
 *      cpBodyUpdatePosition for a kinematic body, as evorobot integrates it);
 *   5. score: the trial ends when the object's centre is end_distance above the agent's; the
 *      offset object x - agent x then gives Beer's clipped catch score.
 * It computes what evorobot's Episode computes for the same agent, operation for operation
 * (compiled with -ffp-contract=off and without fast-math, like numba's kernels), so the results are
 * the same bits; tests/test_cp_reference.py checks it.
 *
 * Simplified against Beer's papers (as evorobot is): the agent never turns (ray directions are
 * fixed, heading 0), one object per trial, no sensor noise, positions in the trial's tile of
 * evorobot's Space (origin_x) so that rounding matches, and the x limit applied through the
 * velocity rather than by clamping the position afterwards. */
#include <math.h>
#include <stddef.h>

enum { CIRCLE = 0, POLYGON = 1, SEGMENT = 2, MAX_VERTS = 8 };
enum { UNFINISHED = 0, DONE = 1, FAILED = 2 };

static inline double cross(double ax, double ay, double bx, double by) { return ax * by - ay * bx; }

/* Distance along the unit ray (ox, oy) + t (ux, uy) to a circle; INFINITY if missed, 0 from inside. */
static inline double circle_hit(double ox, double oy, double ux, double uy, double cx, double cy, double r)
{
    double fx = ox - cx, fy = oy - cy;
    double c = fx * fx + fy * fy - r * r;
    if (c <= 0.0) return 0.0;
    double b = fx * ux + fy * uy;
    if (b > 0.0) return INFINITY;
    double disc = b * b - c;
    if (disc < 0.0) return INFINITY;
    return -b - sqrt(disc);
}

/* Distance along the ray to the edge a-q, INFINITY if missed. */
static inline double edge_hit(double ox, double oy, double ux, double uy, double ax, double ay, double qx, double qy)
{
    double ex = qx - ax, ey = qy - ay;
    double den = cross(ux, uy, ex, ey);
    if (den == 0.0) return INFINITY;
    double wx = ax - ox, wy = ay - oy;
    double s = cross(wx, wy, ux, uy) / den;
    if (s < 0.0 || s > 1.0) return INFINITY;
    double t = cross(wx, wy, ex, ey) / den;
    if (t < 0.0) return INFINITY;
    return t;
}

/* Distance along the ray to a convex counter-clockwise polygon (n vertices, n edges) or a segment
 * (2 vertices, 1 edge) at world vertices vx, vy; 0 from inside a polygon. */
static inline double vertex_hit(double ox, double oy, double ux, double uy, int kind, int n,
                                const double *vx, const double *vy)
{
    int inside = kind == POLYGON, n_edges = kind == POLYGON ? n : 1;
    double t = INFINITY;
    for (int k = 0; k < n_edges; k++) {
        int j = (k + 1) % n;
        if (cross(vx[j] - vx[k], vy[j] - vy[k], ox - vx[k], oy - vy[k]) < 0.0) inside = 0;
        double te = edge_hit(ox, oy, ux, uy, vx[k], vy[k], vx[j], vy[j]);
        if (te < t) t = te;
    }
    return inside ? 0.0 : t;
}

/* Run every trial of every individual to its end.
 *
 * Networks (n_ind of them, N neurons, R ray inputs): tau, bias, gain, y0 [n_ind][N]; w [n_ind][N][N]
 * ([target][source]); w_in [n_ind][N][R]. Motor neurons are first and first + 1.
 * Eye: ray_angle [R] from the heading (radians); rays leave the perimeter (start = body radius).
 * Trials (n_trials): origin_x (the trial's tile), agent (x, y), object (x, y) and velocity (vx, vy)
 * in Space coordinates [n_trials][2]; shape [n_trials] indexes the shape table; avoid [n_trials]
 * (1: score min(d, clip) / clip, 0: 1 - min(d, clip) / clip).
 * Shape table (n_shapes): kind, radius (circles), n_verts and local verts [n_shapes][MAX_VERTS][2].
 * Outputs [n_ind][n_trials]: fitness (worst unless done), offset (object x - agent x on arrival),
 * status (UNFINISHED, DONE, FAILED), steps (ticks run).
 * trace: NULL, or [n_ind][n_trials][max_steps][2 + R] receiving, per tick, the agent's x and the
 * object's y after the move and the R inputs sensed at the start of the tick.
 * Returns the number of agent-steps simulated. */
long cp_run(int n_ind, int n_trials, int N, int R, int first,
            const double *tau, const double *bias, const double *gain, const double *w,
            const double *w_in, const double *y0,
            const double *ray_angle, double start, double range, double in_gain,
            double motor_gain, double x_limit, double dt, int substeps, double end_distance,
            int max_steps, double clip, double worst,
            const double *origin_x, const double *agent0, const double *obj0, const double *obj_v,
            const int *shape, const int *avoid,
            const int *kind, const double *radius, const int *n_verts, const double *verts,
            double *fitness, double *offset, int *status, int *steps, double *trace)
{
    double ux[R], uy[R], dist_in[R], y[N], o[N], acc[N], lx[MAX_VERTS], ly[MAX_VERTS];
    double h = dt / substeps;
    long total = 0;
    for (int r = 0; r < R; r++) {  /* heading 0: the world directions are the relative ones */
        ux[r] = cos(ray_angle[r]);
        uy[r] = sin(ray_angle[r]);
    }
    for (int i = 0; i < n_ind; i++) {
        const double *ti = tau + (size_t)i * N, *bi = bias + (size_t)i * N, *gi = gain + (size_t)i * N;
        const double *W = w + (size_t)i * N * N, *Wi = w_in + (size_t)i * N * R, *yi = y0 + (size_t)i * N;
        for (int t = 0; t < n_trials; t++) {
            size_t it = (size_t)i * n_trials + t;
            int s = shape[t], sk = kind[s], nv = n_verts[s];
            double ax = agent0[2 * t], ay = agent0[2 * t + 1];
            double bx = obj0[2 * t], by = obj0[2 * t + 1], bvx = obj_v[2 * t], bvy = obj_v[2 * t + 1];
            double cr = radius[s], ox0 = origin_x[t];
            for (int k = 0; k < N; k++) {
                y[k] = yi[k];
                o[k] = 1.0 / (1.0 + exp(-gi[k] * (y[k] + bi[k])));
            }
            int st = UNFINISHED, step = 0;
            double off = 0.0;
            double *tr = trace ? trace + it * (size_t)max_steps * (2 + R) : NULL;
            while (step < max_steps) {
                /* sense */
                double *x = tr ? tr + (size_t)step * (2 + R) + 2 : dist_in;
                if (sk != CIRCLE)
                    for (int k = 0; k < nv; k++) {
                        lx[k] = bx + verts[((size_t)s * MAX_VERTS + k) * 2];
                        ly[k] = by + verts[((size_t)s * MAX_VERTS + k) * 2 + 1];
                    }
                for (int r = 0; r < R; r++) {
                    double px = ax + start * ux[r], py = ay + start * uy[r];
                    double d = sk == CIRCLE ? circle_hit(px, py, ux[r], uy[r], bx, by, cr)
                                            : vertex_hit(px, py, ux[r], uy[r], sk, nv, lx, ly);
                    if (!(d < range)) d = range;
                    x[r] = in_gain * (range - d) / range;
                }
                /* think: Beer's EulerStep */
                for (int k = 0; k < N; k++) {
                    double a = 0.0;
                    const double *wk = Wi + (size_t)k * R;
                    for (int r = 0; r < R; r++) a += wk[r] * x[r];
                    acc[k] = a;
                }
                for (int k = 0; k < N; k++) {
                    double a = acc[k];
                    const double *wk = W + (size_t)k * N;
                    for (int j = 0; j < N; j++) a += wk[j] * o[j];
                    acc[k] = a;
                }
                for (int k = 0; k < N; k++) y[k] += dt / ti[k] * (acc[k] - y[k]);
                for (int k = 0; k < N; k++) o[k] = 1.0 / (1.0 + exp(-gi[k] * (y[k] + bi[k])));
                /* act: horizontal motor, cut at the x limit */
                double vx = motor_gain * (o[first] - o[first + 1]);
                if (!isfinite(vx)) {
                    st = FAILED;
                    break;
                }
                double lxa = ax - ox0, nxt = lxa + vx * dt;
                if (nxt > x_limit) vx = (x_limit - lxa) / dt;
                else if (nxt < -x_limit) vx = (-x_limit - lxa) / dt;
                /* move: kinematic bodies, p += (v + v_bias) h with zero bias */
                for (int k = 0; k < substeps; k++) {
                    ax = ax + (vx + 0.0) * h;
                    ay = ay + (0.0 + 0.0) * h;
                    bx = bx + (bvx + 0.0) * h;
                    by = by + (bvy + 0.0) * h;
                }
                step++;
                if (tr) {
                    tr[(size_t)(step - 1) * (2 + R)] = ax;
                    tr[(size_t)(step - 1) * (2 + R) + 1] = by;
                }
                /* score */
                if (by - ay <= end_distance) {
                    off = bx - ax;
                    st = DONE;
                    break;
                }
            }
            total += step;
            steps[it] = step;
            status[it] = st;
            offset[it] = off;
            if (st == DONE) {
                double near = fmin(fabs(off), clip) / clip;
                fitness[it] = avoid[t] ? near : 1.0 - near;
            } else {
                fitness[it] = worst;
            }
        }
    }
    return total;
}
