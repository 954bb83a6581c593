// optim_dev.cu: the fused AdamW step and the EMA update (optim.h) on CUDA against the CPU reference, and timed.
//   optim_dev [adamw|ema|all] [variant|all] [--repeats N] [--no-time]
// adamw v0 library  one thread per element, grid-stride loop (optim.cu)
//       v1 float4   four elements per thread through 128-bit loads and stores (fewer, wider memory instructions),
//                   a scalar loop for the tail, and the scalar path whole when a pointer is not 16-byte aligned
//                   (a parameter group at an odd offset of the flat buffer)
// ema   v0 library  one thread per element (optim.cu)
//
// Tolerances: both sides run the same float operations in the same order; they differ only where a compiler fuses
// a multiply and an add (nvcc always may, GCC in the AVX2/FMA clone), i.e. by a rounding or two per operation.
#include "cotrain/optim.h"
#include "cuda_common.cuh"
#include "dev_common.h"

#include <cstdint>

using dev::kU;

// ---- variant 1 of adamw: float4 ----------------------------------------------------------------------------------

#define AW1_BLOCK 256

struct Aw1Consts {
    float beta1, beta2, one_minus_beta1, one_minus_beta2, eps, decay, step_size, bc2_sqrt, grad_scale;
};

// The arithmetic of one element, exactly as optim.cu's kernel and optim.cpp.
__device__ __forceinline__ void aw1_element(float& p, float g, float& m, float& v, const Aw1Consts& k) {
    g = g * k.grad_scale;
    const float pd = p * k.decay;
    m = k.beta1 * m + k.one_minus_beta1 * g;
    v = k.beta2 * v + k.one_minus_beta2 * (g * g);
    const float denom = sqrtf(v) / k.bc2_sqrt + k.eps;
    p = pd - k.step_size * (m / denom);
}

// param, grad, m, v: (n), 16-byte aligned; elements [0, 4 * (n / 4)) as float4, the rest one by one.
__global__ void aw1_vec4_kernel(float* param, const float* grad, float* m, float* v, int64_t n, Aw1Consts k) {
    const int64_t n4 = n / 4;
    const int64_t stride = (int64_t)gridDim.x * blockDim.x;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n4; i += stride) {
        float4 p = reinterpret_cast<float4*>(param)[i];
        const float4 g = reinterpret_cast<const float4*>(grad)[i];
        float4 mi = reinterpret_cast<float4*>(m)[i];
        float4 vi = reinterpret_cast<float4*>(v)[i];
        aw1_element(p.x, g.x, mi.x, vi.x, k);
        aw1_element(p.y, g.y, mi.y, vi.y, k);
        aw1_element(p.z, g.z, mi.z, vi.z, k);
        aw1_element(p.w, g.w, mi.w, vi.w, k);
        reinterpret_cast<float4*>(param)[i] = p;
        reinterpret_cast<float4*>(m)[i] = mi;
        reinterpret_cast<float4*>(v)[i] = vi;
    }
    for (int64_t i = 4 * n4 + (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride)
        aw1_element(param[i], grad[i], m[i], v[i], k);
}

// param, grad, m, v: (n), any alignment.
__global__ void aw1_scalar_kernel(float* param, const float* grad, float* m, float* v, int64_t n, Aw1Consts k) {
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
        aw1_element(param[i], grad[i], m[i], v[i], k);
}

static int aw1_adamw_step(float* param, const float* grad, float* m, float* v, int64_t n, float lr, float beta1,
                          float beta2, float eps, float weight_decay, float bias_correction1, float bias_correction2,
                          float grad_scale, void* stream) {
    if (n == 0) return 0;
    // Per-step constants folded on the host, as optim.cu does: beta1, beta2, 1 - beta1, 1 - beta2, eps, decay,
    // step_size, sqrt(bias_correction2), grad_scale.
    const Aw1Consts k = {beta1, beta2, 1.0f - beta1, 1.0f - beta2, eps, 1.0f - lr * weight_decay,
                         lr / bias_correction1, sqrtf(bias_correction2), grad_scale};
    const uintptr_t bits = (uintptr_t)param | (uintptr_t)grad | (uintptr_t)m | (uintptr_t)v;
    if (bits % 16 == 0) {
        aw1_vec4_kernel<<<ct_grid_for(n / 4 > 0 ? n / 4 : 1, AW1_BLOCK), AW1_BLOCK, 0, CT_STREAM(stream)>>>(
            param, grad, m, v, n, k);
    } else {
        aw1_scalar_kernel<<<ct_grid_for(n, AW1_BLOCK), AW1_BLOCK, 0, CT_STREAM(stream)>>>(param, grad, m, v, n, k);
    }
    return (int)cudaGetLastError();
}

using AdamwFn = int (*)(float*, const float*, float*, float*, int64_t, float, float, float, float, float, float,
                        float, float, void*);
using EmaFn = int (*)(float*, const float*, int64_t, float, void*);
static const dev::Variant<AdamwFn> kAdamw[] = {{"library", ct_adamw_step_cuda}, {"float4", aw1_adamw_step}};
static const dev::Variant<EmaFn> kEma[] = {{"library", ct_ema_update_cuda}};

// Sizes: DP-T's parameter count (about 9M, odd) and the image policy's (about 25M) are timed; odd sizes otherwise.
// offset: the buffers start one float into their allocation (a misaligned parameter group).
struct Shape {
    int64_t n;
    int offset;
    bool timed;
};
static const Shape kShapes[] = {{9000001, 0, true}, {25000000, 0, true}, {1, 0, false},
                                {3, 0, false},      {1000003, 0, false}, {1001, 1, false}};

// (lr, beta1, beta2, eps, weight_decay, grad_scale, step): DP's optimiser, a large lr with clipping, late steps.
struct Hyper {
    float lr, beta1, beta2, eps, weight_decay, grad_scale;
    int step;
};
static const Hyper kHypers[] = {{1e-4f, 0.9f, 0.95f, 1e-8f, 1e-3f, 1.0f, 1},
                                {5e-2f, 0.8f, 0.95f, 1e-8f, 0.1f, 0.37f, 3},
                                {1e-2f, 0.9f, 0.999f, 1e-8f, 0.0f, 1.0f, 1000}};

// A device copy of host data starting `offset` floats into its allocation.
struct OffsetBuffer {
    dev::DeviceBuffer<float> buf;
    int offset;
    OffsetBuffer(const std::vector<float>& host, int off) : buf(host.size() + off), offset(off) { upload(host); }
    float* ptr() const { return buf.ptr + offset; }
    void upload(const std::vector<float>& host) {
        std::vector<float> padded(offset, 0.0f);
        padded.insert(padded.end(), host.begin(), host.end());
        buf.upload(padded);
    }
    std::vector<float> download() const {
        std::vector<float> all = buf.download();
        return std::vector<float>(all.begin() + offset, all.end());
    }
};

static void check_adamw(const dev::Args& args) {
    printf("adamw\n");
    dev::Rng rng(8);
    const int count = (int)(sizeof kAdamw / sizeof kAdamw[0]);
    if (dev::variant_missing(args, "adamw", count)) return;
    for (const Shape& sh : kShapes) {
        const size_t n = (size_t)sh.n;
        // param ~ N(0, 1), grad ~ N(0, 1e-2); m ~ N(0, 1e-2) and v in (1e-6, 1e-4) as after some steps. v > 0
        // keeps the square root's relative error finite (at v = 0 exactly both sides give sqrt(0) = 0 anyway).
        const std::vector<float> p0 = dev::normal(n, rng);
        std::vector<float> g = dev::normal(n, rng), m0 = dev::normal(n, rng);
        for (auto& x : g) x *= 1e-2f;
        for (auto& x : m0) x *= 1e-2f;
        const std::vector<float> v0 = dev::uniform(n, 1e-6f, 1e-4f, rng);
        OffsetBuffer d_p(p0, sh.offset), d_g(g, sh.offset), d_m(m0, sh.offset), d_v(v0, sh.offset);
        for (const Hyper& h : kHypers) {
            const float bc1 = (float)(1.0 - std::pow((double)h.beta1, h.step));
            const float bc2 = (float)(1.0 - std::pow((double)h.beta2, h.step));
            std::vector<float> p = p0, m = m0, v = v0;
            ct_adamw_step_cpu(p.data(), g.data(), m.data(), v.data(), sh.n, h.lr, h.beta1, h.beta2, h.eps,
                              h.weight_decay, bc1, bc2, h.grad_scale);

            // Per element, with gs = g * grad_scale (the same float on both sides):
            //   m = beta1 m + (1 - beta1) gs: a product and a sum, rounded or fused: 2u (|beta1 m| + |(1-b1) gs|)
            //     per side;
            //   v = beta2 v + (1 - beta2) gs^2: one more product: 3u (...) per side;
            //   denom = sqrt(v) / sqrt(bc2) + eps: half v's relative error, then sqrtf, / and + (3u per side);
            //   step = step_size (m / denom): m's absolute error, denom's relative one, / and * (4u both sides);
            //   param = param decay - step: each side rounds the product and the difference (2u |param| each), and
            //     decay = 1 - lr wd itself may be fused on one side only (u |param decay| more).
            const float decay = 1.0f - h.lr * h.weight_decay, step_size = h.lr / bc1, bc2_sqrt = std::sqrt(bc2);
            std::vector<double> tol_p(n), tol_m(n), tol_v(n);
            for (size_t k = 0; k < n; k++) {
                const double gs = (double)(g[k] * h.grad_scale);
                tol_m[k] = 4.0 * kU * (std::fabs(h.beta1 * m0[k]) + std::fabs((1.0 - h.beta1) * gs));
                tol_v[k] = 6.0 * kU * (std::fabs(h.beta2 * v0[k]) + std::fabs((1.0 - h.beta2) * gs * gs));
                const double denom = std::sqrt((double)v[k]) / bc2_sqrt + h.eps;
                const double rel_denom = 0.5 * tol_v[k] / v[k] + 6.0 * kU;
                tol_p[k] = step_size * (tol_m[k] + std::fabs(m[k]) * (rel_denom + 4.0 * kU)) / denom +
                           3.0 * kU * std::fabs(p0[k] * decay) + 2.0 * kU * std::fabs(p[k]);
            }

            const std::string shape = dev::shape("n=%lld%s lr=%g wd=%g step=%d", (long long)sh.n,
                                                 sh.offset ? " misaligned" : "", h.lr, h.weight_decay, h.step);
            for (int variant = 0; variant < count; variant++) {
                if (!args.wants_variant(variant)) continue;
                d_p.upload(p0);
                d_m.upload(m0);
                d_v.upload(v0);
                auto launch = [&] {
                    return kAdamw[variant].fn(d_p.ptr(), d_g.ptr(), d_m.ptr(), d_v.ptr(), sh.n, h.lr, h.beta1, h.beta2,
                                         h.eps, h.weight_decay, bc1, bc2, h.grad_scale, nullptr);
                };
                DEV_CT(launch());
                DEV_CT(ct_cuda_device_synchronize());
                printf("  v%d %s %s\n", variant, kAdamw[variant].name, shape.c_str());
                dev::compare("param", p, d_p.download(), tol_p);
                dev::compare("m", m, d_m.download(), tol_m);
                dev::compare("v", v, d_v.download(), tol_v);
                // read param, grad, m, v; write param, m, v. Timing repeats the step in place (values stay finite).
                if (args.time && sh.timed && &h == &kHypers[0])
                    dev::report_time("adamw", variant, kAdamw[variant].name, shape, dev::time_us(launch, args.repeats),
                                     28.0 * n, 15.0 * n);
            }
        }
    }
}

static void check_ema(const dev::Args& args) {
    printf("ema\n");
    dev::Rng rng(9);
    const int count = (int)(sizeof kEma / sizeof kEma[0]);
    if (dev::variant_missing(args, "ema", count)) return;
    for (const Shape& sh : kShapes) {
        const size_t n = (size_t)sh.n;
        const std::vector<float> e0 = dev::normal(n, rng), p = dev::normal(n, rng);
        OffsetBuffer d_e(e0, sh.offset), d_p(p, sh.offset);
        for (float decay : {0.9999f, 0.75f}) {
            std::vector<float> e = e0;
            ct_ema_update_cpu(e.data(), p.data(), sh.n, decay);
            // ema decay + (1 - decay) param: two products and a sum, rounded or fused: 2u (...) per side.
            std::vector<double> tol(n);
            for (size_t k = 0; k < n; k++)
                tol[k] = 4.0 * kU * (std::fabs(e0[k] * decay) + std::fabs((1.0 - decay) * p[k]));
            const std::string shape =
                dev::shape("n=%lld%s decay=%g", (long long)sh.n, sh.offset ? " misaligned" : "", decay);
            for (int v = 0; v < count; v++) {
                if (!args.wants_variant(v)) continue;
                d_e.upload(e0);
                auto launch = [&] { return kEma[v].fn(d_e.ptr(), d_p.ptr(), sh.n, decay, nullptr); };
                DEV_CT(launch());
                DEV_CT(ct_cuda_device_synchronize());
                printf("  v%d %s %s\n", v, kEma[v].name, shape.c_str());
                dev::compare("ema", e, d_e.download(), tol);
                if (args.time && sh.timed && decay == 0.9999f)
                    dev::report_time("ema", v, kEma[v].name, shape, dev::time_us(launch, args.repeats), 12.0 * n,
                                     3.0 * n);  // read ema, param; write ema
            }
        }
    }
}

int main(int argc, char** argv) {
    const dev::Args args = dev::parse_args(argc, argv, "optim_dev", {"adamw", "ema"});
    // A variant number the named op lacks is a bad argument (exit 2), with or without a GPU.
    dev::variant_missing(args, "adamw", (int)(sizeof kAdamw / sizeof kAdamw[0]));
    dev::variant_missing(args, "ema", (int)(sizeof kEma / sizeof kEma[0]));
    if (dev::skip_without_gpu("optim_dev")) return 0;
    if (args.wants("adamw")) check_adamw(args);
    if (args.wants("ema")) check_ema(args);
    return dev::finish("optim_dev");
}
