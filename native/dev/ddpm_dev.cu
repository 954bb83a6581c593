// ddpm_dev.cu: the batched diffusion steps (ddpm.h) on CUDA against the CPU reference, and timed.
//   ddpm_dev [add_noise|ddpm_step|ddim_step|all] [variant|all] [--repeats N] [--no-time]
// add_noise v0 library         one thread per element (ddpm.cu)
// ddpm_step v0 library         one thread per element, each recomputing its chain's coefficients (ddpm.cu)
//           v1 chain_coeffs    one block per chain: thread 0 computes the chain's coefficients once, as the CPU's
//                              StepCoefficients (x0 = clamp(p xt + q model), out = a x0 + b xt + c model + sd z),
//                              the block's threads apply them: no square roots per element
// ddim_step v0 library         one thread per element (ddpm.cu)
//
// Tolerances: both sides compute the steps in double and round once to float, so they differ by that rounding
// (one ulp of the output either way, 2u |out|), by double roundings amplified at most by 1/sqrt(abar) and
// 1/sqrt(1 - abar) (2^-46 of the magnitudes, see step_tolerance), and by the Philox normal's last bit.
#include "cotrain/ddpm.h"
#include "cotrain/philox.h"
#include "cuda_common.cuh"
#include "dev_common.h"

using dev::kU;

// ---- variant 1 of ddpm_step: per-chain coefficients in shared memory ---------------------------------------------

#define DS1_THREADS 128

__device__ __forceinline__ double ds1_clamp_nan(double v, double r) { return v < -r ? -r : (v > r ? r : v); }

// model, xt, noise, out: (B, N); t, prev_t: (B); abar: (T)
__global__ void ds1_ddpm_step_kernel(const float* __restrict__ model, const float* __restrict__ xt,
                                     const int32_t* __restrict__ t, const int32_t* __restrict__ prev_t,
                                     const float* __restrict__ abar, int num_timesteps, int prediction_type, int clip,
                                     float clip_range, const float* __restrict__ noise, uint64_t seed,
                                     uint64_t offset, float* __restrict__ out, int b, int64_t n) {
    __shared__ double k[7];  // p, q, r, a, b, c, sd; k[0] is NaN for a bad chain
    for (int chain = blockIdx.x; chain < b; chain += gridDim.x) {
        if (threadIdx.x == 0) {
            const int32_t tc = t[chain], pc = prev_t[chain];
            if (tc < 0 || tc >= num_timesteps || pc >= num_timesteps) {
                k[0] = NAN;
            } else {
                const double a_t = abar[tc];
                const double a_p = pc >= 0 ? (double)abar[pc] : 1.0;
                const double alpha = a_t / a_p, beta = 1.0 - alpha;
                const double sqrt_a_t = sqrt(a_t), sqrt_1m_a_t = sqrt(1.0 - a_t);
                const bool sample = prediction_type == CT_PREDICT_SAMPLE;
                k[0] = sample ? 0.0 : 1.0 / sqrt_a_t;
                k[1] = sample ? 1.0 : -sqrt_1m_a_t / sqrt_a_t;
                k[2] = clip ? (double)clip_range : INFINITY;
                k[3] = sqrt(a_p) * beta / (1.0 - a_t);
                k[4] = sqrt(alpha) * (1.0 - a_p) / (1.0 - a_t);
                k[5] = 0.0;
                k[6] = tc > 0 ? sqrt(fmax((1.0 - a_p) / (1.0 - a_t) * beta, 1e-20)) : 0.0;
            }
        }
        __syncthreads();
        const double p = k[0], q = k[1], r = k[2], ka = k[3], kb = k[4], kc = k[5], sd = k[6];
        const int64_t base = (int64_t)chain * n;
        for (int64_t i = threadIdx.x; i < n; i += DS1_THREADS) {
            if (isnan(p)) {
                out[base + i] = NAN;
                continue;
            }
            const double x = xt[base + i], m = model[base + i];
            const double x0 = ds1_clamp_nan(p * x + q * m, r);
            double o = ka * x0 + kb * x + kc * m;
            if (sd != 0.0) {
                o += sd * (noise ? (double)noise[base + i]
                                 : (double)ct_philox_normal(seed, offset + (uint64_t)(base + i)));
            }
            out[base + i] = (float)o;
        }
        __syncthreads();  // k is rewritten for the next chain
    }
}

static int ds1_ddpm_step(const float* model, const float* xt, const int32_t* t, const int32_t* prev_t,
                         const float* abar, int num_timesteps, int prediction_type, int clip, float clip_range,
                         const float* noise, uint64_t seed, uint64_t offset, float* out, int b, int64_t n,
                         void* stream) {
    if ((int64_t)b * n <= 0) return 0;
    ds1_ddpm_step_kernel<<<ct_grid_for(b, 1), DS1_THREADS, 0, CT_STREAM(stream)>>>(
        model, xt, t, prev_t, abar, num_timesteps, prediction_type, clip, clip_range, noise, seed, offset, out, b, n);
    return (int)cudaGetLastError();
}

using AddNoiseFn = int (*)(const float*, const float*, const int32_t*, const float*, int, float*, int, int64_t,
                           void*);
using DdpmStepFn = int (*)(const float*, const float*, const int32_t*, const int32_t*, const float*, int, int, int,
                           float, const float*, uint64_t, uint64_t, float*, int, int64_t, void*);
using DdimStepFn = int (*)(const float*, const float*, const int32_t*, const int32_t*, const float*, int, float,
                           float, int, int, float, int, const float*, uint64_t, uint64_t, float*, int, int64_t,
                           void*);
static const dev::Variant<AddNoiseFn> kAddNoise[] = {{"library", ct_ddpm_add_noise_cuda}};
static const dev::Variant<DdpmStepFn> kDdpmStep[] = {{"library", ct_ddpm_step_cuda}, {"chain_coeffs", ds1_ddpm_step}};
static const dev::Variant<DdimStepFn> kDdimStep[] = {{"library", ct_ddim_step_cuda}};

// squaredcos_cap_v2 with T = 100 (Diffusion Policy's schedule): abar from about 1 down to about 1e-6 at t = 99,
// where recovering x0 divides by sqrt(abar) ~ 1e-3. The betas are capped at 0.999, as diffusers does.
static const int kT = 100;
static std::vector<float> schedule() {
    std::vector<float> abar(kT);
    auto f = [](double s) {
        const double c = std::cos((s / kT + 0.008) / 1.008 * 3.141592653589793 / 2.0);
        return c * c;
    };
    double prod = 1.0;
    for (int t = 0; t < kT; t++) {
        prod *= 1.0 - std::fmin(1.0 - f(t + 1.0) / f(t), 0.999);
        abar[t] = (float)prod;
    }
    return abar;
}

// Shapes (B, N): a training/sampling batch of DP-T (batch 256, horizon 16 x action dim 10) and a large one are
// timed; odd sizes otherwise. Chain 1 of every batch with B > 2 has t = T, which must give NaN on both sides.
struct Shape {
    int b;
    int64_t n;
    bool timed;
};
static const Shape kShapes[] = {{256, 160, true}, {4096, 160, true}, {1, 1, false}, {7, 33, false}, {64, 1001, false}};
static const uint64_t kSeed = 42, kOffset = 1000;

struct Batch {
    std::vector<float> model, xt, noise;
    std::vector<int32_t> t, prev_t;
};

// stride: prev_t = t - stride (DDPM 1, DDIM e.g. 10), negative for the first steps.
static Batch batch(const Shape& sh, int stride, dev::Rng& rng) {
    Batch bt;
    const size_t total = (size_t)sh.b * sh.n;
    bt.model = dev::normal(total, rng);
    bt.xt = dev::normal(total, rng);
    bt.noise = dev::normal(total, rng);
    for (int c = 0; c < sh.b; c++) {
        const int32_t t = c == 0 ? 0 : (c == 2 ? kT - 1 : rng.randint(0, kT));  // both ends of the schedule, always
        bt.t.push_back(c == 1 && sh.b > 2 ? kT : t);
        bt.prev_t.push_back(t - stride);
    }
    return bt;
}

// Per element: 2u |out| (each side's single rounding to float, from doubles that differ in their last bits), the
// double arithmetic (some 30 operations per side, each 2^-53 relative to an intermediate no larger than
// M = (|xt| + |model|) (1/sqrt(a_t) + 1/sqrt(1 - a_t)) + |z|, since every other coefficient is at most 1): 2^-46 M,
// and the Philox normal, a float rounded from double Box-Muller whose log and cos differ in the last double bits
// between CUDA and glibc, so its last float bit may differ: 2u |z| (times a noise scale at most 1).
static std::vector<double> step_tolerance(const Batch& bt, const Shape& sh, const std::vector<float>& abar,
                                          const std::vector<float>& out, bool philox) {
    std::vector<double> tol(out.size());
    for (int c = 0; c < sh.b; c++) {
        const int32_t t = bt.t[c] < kT ? bt.t[c] : 0;
        const double a_t = abar[t], amp = 1.0 / std::sqrt(a_t) + 1.0 / std::sqrt(1.0 - a_t);
        for (int64_t i = 0; i < sh.n; i++) {
            const size_t k = (size_t)c * sh.n + i;
            const double z = philox ? (double)ct_philox_normal(kSeed, kOffset + k) : (double)bt.noise[k];
            const double m = (std::fabs(bt.xt[k]) + std::fabs(bt.model[k])) * amp + std::fabs(z);
            tol[k] = 2.0 * kU * std::fabs(out[k]) + std::ldexp(m, -46) + 2.0 * kU * std::fabs(z);
        }
    }
    return tol;
}

static void check_add_noise(const dev::Args& args, const std::vector<float>& abar) {
    printf("add_noise\n");
    dev::Rng rng(5);
    const int count = (int)(sizeof kAddNoise / sizeof kAddNoise[0]);
    if (dev::variant_missing(args, "add_noise", count)) return;
    for (const Shape& sh : kShapes) {
        const Batch bt = batch(sh, 1, rng);  // model as x0, noise as eps
        const size_t total = (size_t)sh.b * sh.n;
        std::vector<float> xt(total);
        ct_ddpm_add_noise_cpu(bt.model.data(), bt.noise.data(), bt.t.data(), abar.data(), kT, xt.data(), sh.b, sh.n);
        // xt = sa x0 + sb eps with the same float sa, sb on both sides (correctly rounded double square roots):
        // two products and a sum, each rounded or fused differently per side: 2u (|sa x0| + |sb eps|) per side.
        std::vector<double> tol(total);
        for (size_t k = 0; k < total; k++) {
            const int32_t t = bt.t[k / sh.n] < kT ? bt.t[k / sh.n] : 0;
            const double sa = (float)std::sqrt((double)abar[t]), sb = (float)std::sqrt(1.0 - abar[t]);
            tol[k] = 4.0 * kU * (sa * std::fabs(bt.model[k]) + sb * std::fabs(bt.noise[k]));
        }
        dev::DeviceBuffer<float> d_x0(bt.model), d_eps(bt.noise), d_abar(abar), d_xt(total);
        dev::DeviceBuffer<int32_t> d_t(bt.t);
        const std::string shape = dev::shape("B=%d N=%lld", sh.b, (long long)sh.n);
        for (int v = 0; v < count; v++) {
            if (!args.wants_variant(v)) continue;
            auto launch = [&] {
                return kAddNoise[v].fn(d_x0.ptr, d_eps.ptr, d_t.ptr, d_abar.ptr, kT, d_xt.ptr, sh.b, sh.n, nullptr);
            };
            DEV_CT(launch());
            DEV_CT(ct_cuda_device_synchronize());
            printf("  v%d %s %s\n", v, kAddNoise[v].name, shape.c_str());
            dev::compare("xt", xt, d_xt.download(), tol);
            if (args.time && sh.timed)
                dev::report_time("add_noise", v, kAddNoise[v].name, shape, dev::time_us(launch, args.repeats),
                                 12.0 * total);  // read x0, eps; write xt
        }
    }
}

static void check_ddpm_step(const dev::Args& args, const std::vector<float>& abar) {
    printf("ddpm_step\n");
    dev::Rng rng(6);
    const int count = (int)(sizeof kDdpmStep / sizeof kDdpmStep[0]);
    if (dev::variant_missing(args, "ddpm_step", count)) return;
    for (const Shape& sh : kShapes) {
        const Batch bt = batch(sh, 1, rng);
        const size_t total = (size_t)sh.b * sh.n;
        dev::DeviceBuffer<float> d_model(bt.model), d_xt(bt.xt), d_noise(bt.noise), d_abar(abar), d_out(total);
        dev::DeviceBuffer<int32_t> d_t(bt.t), d_prev(bt.prev_t);
        // Both prediction types, clipped x0 (as DP samples), and the noise supplied or drawn from Philox.
        for (int prediction : {CT_PREDICT_EPSILON, CT_PREDICT_SAMPLE}) {
            for (bool philox : {false, true}) {
                std::vector<float> out(total);
                ct_ddpm_step_cpu(bt.model.data(), bt.xt.data(), bt.t.data(), bt.prev_t.data(), abar.data(), kT,
                                 prediction, 1, 1.0f, philox ? nullptr : bt.noise.data(), kSeed, kOffset, out.data(),
                                 sh.b, sh.n);
                const std::vector<double> tol = step_tolerance(bt, sh, abar, out, philox);
                const std::string shape = dev::shape("B=%d N=%lld %s %s", sh.b, (long long)sh.n,
                                                     prediction == CT_PREDICT_SAMPLE ? "sample" : "epsilon",
                                                     philox ? "philox" : "noise");
                for (int v = 0; v < count; v++) {
                    if (!args.wants_variant(v)) continue;
                    auto launch = [&] {
                        return kDdpmStep[v].fn(d_model.ptr, d_xt.ptr, d_t.ptr, d_prev.ptr, d_abar.ptr, kT, prediction,
                                               1, 1.0f, philox ? nullptr : d_noise.ptr, kSeed, kOffset, d_out.ptr,
                                               sh.b, sh.n, nullptr);
                    };
                    DEV_CT(launch());
                    DEV_CT(ct_cuda_device_synchronize());
                    printf("  v%d %s %s\n", v, kDdpmStep[v].name, shape.c_str());
                    dev::compare("out", out, d_out.download(), tol);
                    // read model, xt (and noise), write out
                    if (args.time && sh.timed && prediction == CT_PREDICT_EPSILON)
                        dev::report_time("ddpm_step", v, kDdpmStep[v].name, shape, dev::time_us(launch, args.repeats),
                                         (philox ? 12.0 : 16.0) * total);
                }
            }
        }
    }
}

static void check_ddim_step(const dev::Args& args, const std::vector<float>& abar) {
    printf("ddim_step\n");
    dev::Rng rng(7);
    const int count = (int)(sizeof kDdimStep / sizeof kDdimStep[0]);
    if (dev::variant_missing(args, "ddim_step", count)) return;
    const float final_abar = abar[0];  // set_alpha_to_one = False, as DP's DDIM config
    for (const Shape& sh : kShapes) {
        const Batch bt = batch(sh, 10, rng);  // 10 of 100 steps
        const size_t total = (size_t)sh.b * sh.n;
        dev::DeviceBuffer<float> d_model(bt.model), d_xt(bt.xt), d_abar(abar), d_out(total);
        dev::DeviceBuffer<int32_t> d_t(bt.t), d_prev(bt.prev_t);
        // eta 0 (deterministic DDIM) and 1 (Philox noise); the model output as given, or re-derived from the
        // clipped x0; both prediction types.
        for (int prediction : {CT_PREDICT_EPSILON, CT_PREDICT_SAMPLE}) {
            for (float eta : {0.0f, 1.0f}) {
                for (int use_clipped : {0, 1}) {
                    std::vector<float> out(total);
                    ct_ddim_step_cpu(bt.model.data(), bt.xt.data(), bt.t.data(), bt.prev_t.data(), abar.data(), kT,
                                     final_abar, eta, prediction, 1, 1.0f, use_clipped, nullptr, kSeed, kOffset,
                                     out.data(), sh.b, sh.n);
                    const std::vector<double> tol = step_tolerance(bt, sh, abar, out, true);
                    const std::string shape =
                        dev::shape("B=%d N=%lld %s eta=%g%s", sh.b, (long long)sh.n,
                                   prediction == CT_PREDICT_SAMPLE ? "sample" : "epsilon", eta,
                                   use_clipped ? " clipped_eps" : "");
                    for (int v = 0; v < count; v++) {
                        if (!args.wants_variant(v)) continue;
                        auto launch = [&] {
                            return kDdimStep[v].fn(d_model.ptr, d_xt.ptr, d_t.ptr, d_prev.ptr, d_abar.ptr, kT,
                                                   final_abar, eta, prediction, 1, 1.0f, use_clipped, nullptr, kSeed,
                                                   kOffset, d_out.ptr, sh.b, sh.n, nullptr);
                        };
                        DEV_CT(launch());
                        DEV_CT(ct_cuda_device_synchronize());
                        printf("  v%d %s %s\n", v, kDdimStep[v].name, shape.c_str());
                        dev::compare("out", out, d_out.download(), tol);
                        if (args.time && sh.timed && prediction == CT_PREDICT_EPSILON && eta == 0.0f && !use_clipped)
                            dev::report_time("ddim_step", v, kDdimStep[v].name, shape,
                                             dev::time_us(launch, args.repeats), 12.0 * total);  // model, xt, out
                    }
                }
            }
        }
    }
}

int main(int argc, char** argv) {
    const dev::Args args = dev::parse_args(argc, argv, "ddpm_dev", {"add_noise", "ddpm_step", "ddim_step"});
    // A variant number the named op lacks is a bad argument (exit 2), with or without a GPU.
    dev::variant_missing(args, "add_noise", (int)(sizeof kAddNoise / sizeof kAddNoise[0]));
    dev::variant_missing(args, "ddpm_step", (int)(sizeof kDdpmStep / sizeof kDdpmStep[0]));
    dev::variant_missing(args, "ddim_step", (int)(sizeof kDdimStep / sizeof kDdimStep[0]));
    if (dev::skip_without_gpu("ddpm_dev")) return 0;
    const std::vector<float> abar = schedule();
    if (args.wants("add_noise")) check_add_noise(args, abar);
    if (args.wants("ddpm_step")) check_ddpm_step(args, abar);
    if (args.wants("ddim_step")) check_ddim_step(args, abar);
    return dev::finish("ddpm_dev");
}
