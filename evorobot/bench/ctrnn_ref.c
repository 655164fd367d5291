/* Reference C loop for `evorobot bench`: a batched CTRNN forward-Euler step in Beer's order
 * (every state from the previous outputs, then all outputs), weights [network][target][source],
 * summed in plain order (compiled without fast-math, like the numba kernel). */
#include <math.h>
#include <stddef.h>

void ctrnn_euler(int B, int N, int K, const double *tau, const double *bias, const double *gain,
                 const double *w, const double *win, double *y, double *o, const double *x, double dt)
{
    for (int b = 0; b < B; b++) {
        const double *W = w + (size_t)b * N * N, *Wi = win + (size_t)b * N * K, *xb = x + (size_t)b * K;
        double *yb = y + (size_t)b * N, *ob = o + (size_t)b * N;
        const double *tb = tau + (size_t)b * N, *gb = gain + (size_t)b * N, *bb = bias + (size_t)b * N;
        for (int i = 0; i < N; i++) {
            double acc = 0.0;
            for (int k = 0; k < K; k++) acc += Wi[i * K + k] * xb[k];
            for (int j = 0; j < N; j++) acc += W[i * N + j] * ob[j];
            yb[i] += dt / tb[i] * (acc - yb[i]);
        }
        for (int i = 0; i < N; i++)
            ob[i] = 1.0 / (1.0 + exp(-gb[i] * (yb[i] + bb[i])));
    }
}
