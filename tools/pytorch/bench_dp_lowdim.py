#!/usr/bin/env python3
"""The PyTorch side of cotrain's DP-T low-dim benchmarks (issue 3): the training step and 100-step DDPM sampling of
the full-size Diffusion Policy transformer on the same model definition as the parity fixtures
(transformer_for_diffusion.py beside this file).

Model: DP's push-T low-dim transformer config (diffusion_policy/config/train_diffusion_transformer_lowdim_pusht_
workspace.yaml with task pusht_lowdim): horizon 16, n_obs_steps 2, action_dim 2, obs_dim 20 (cond_dim), n_layer 8,
n_head 4, n_emb 256, p_drop_emb 0.0, p_drop_attn 0.01, causal_attn, time_as_cond, obs_as_cond, n_cond_layers 0;
DDPM squaredcos_cap_v2 with 100 training steps, epsilon prediction, clip_sample, fixed_small; AdamW lr 1e-4,
betas (0.9, 0.95), weight_decay 1e-1 with DP's parameter groups.

  train   one training step at --batch (default 256) as DP's compute_loss does it: noise, random timesteps, add_noise,
          forward (training mode: dropout on), MSE on the noise, backward, AdamW step. Warm-up, then the median of
          --steps steps.
  sample  DP's conditional_sample at batch 1 under torch.no_grad(): 100 denoising steps, each a forward in eval mode
          and diffusers' DDPMScheduler.step (epsilon, clip_sample, fixed_small variance) written out in torch. The
          median of --runs full samplings.

Prints one JSON line per benchmark. Run with Debian's python3-torch:
    /usr/bin/python3 tools/pytorch/bench_dp_lowdim.py --threads 2
    /usr/bin/python3 tools/pytorch/bench_dp_lowdim.py --threads 2 \
        --openblas target/openblas/org/bytedeco/openblas/linux-x86_64/libopenblas.so.0

BLAS: Debian's torch is built with BLAS_INFO=generic and calls sgemm through libblas.so.3, which is whatever the
system's alternative points to: the reference (netlib) BLAS unless an optimised one (libopenblas0) is installed; the
reference BLAS runs the DP-T GEMMs at about 2.5 GFLOP/s, which is not a fair baseline. --openblas LIB re-runs the
script with LD_LIBRARY_PATH pointing to a private libblas.so.3 -> LIB (OpenBLAS exports the standard BLAS symbols)
and OPENBLAS_NUM_THREADS = --threads, without touching the system; the engine uses the same OpenBLAS (the
bytedeco jar, unpacked by the Maven build). It also sets OMP_WAIT_POLICY=PASSIVE (unless set): torch's OpenMP pool
and OpenBLAS's pthread pool then take turns on the same cores, and with libgomp's default spin-waiting the idle
OpenMP threads starve OpenBLAS's (measured on 2 cores: 280 ms per batch-1 forward instead of 11 ms). Each JSON line
names the libblas that was loaded ("blas").
"""
import argparse
import json
import os
import statistics
import sys
import tempfile
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from transformer_for_diffusion import TransformerForDiffusion, add_noise, squaredcos_cap_v2_alphas_cumprod  # noqa: E402

PUSHT_LOWDIM = dict(input_dim=2, output_dim=2, horizon=16, n_obs_steps=2, cond_dim=20, n_layer=8, n_head=4, n_emb=256,
                    p_drop_emb=0.0, p_drop_attn=0.01, causal_attn=True, time_as_cond=True, obs_as_cond=True,
                    n_cond_layers=0)
OPTIMIZER = dict(lr=1e-4, betas=(0.9, 0.95), weight_decay=1e-1)
NUM_TRAIN_TIMESTEPS = 100


def ddpm_step(model_output, t, sample, alphas_cumprod, generator):
    """diffusers 0.11.1 DDPMScheduler.step with 100 inference steps of 100: epsilon prediction, x0 clipped to
    [-1, 1], fixed_small variance. t is a Python int."""
    prev_t = t - 1
    abar_t = alphas_cumprod[t]
    abar_prev = alphas_cumprod[prev_t] if prev_t >= 0 else torch.tensor(1.0)
    beta_prod_t = 1 - abar_t
    beta_prod_prev = 1 - abar_prev
    alpha_t = abar_t / abar_prev
    beta_t = 1 - alpha_t
    x0 = (sample - beta_prod_t ** 0.5 * model_output) / abar_t ** 0.5
    x0 = torch.clamp(x0, -1, 1)
    prev = (abar_prev ** 0.5 * beta_t / beta_prod_t) * x0 + (alpha_t ** 0.5 * beta_prod_prev / beta_prod_t) * sample
    if t > 0:
        variance = torch.clamp(beta_prod_prev / beta_prod_t * beta_t, min=1e-20)
        noise = torch.randn(model_output.shape, generator=generator, dtype=model_output.dtype)
        prev = prev + variance ** 0.5 * noise
    return prev


def time_training(model, optimizer, action, cond, warmup, steps, generator):
    """Median ms of a training step as DP's compute_loss does it: noise, random timesteps, add_noise, forward
    (training mode: dropout on), MSE on the noise, backward, optimizer step. One fixed batch of normalised data (the
    data pipeline is not what is measured); model(noisy, timesteps, cond). Shared with bench_dp_unet.py."""
    _, alphas_cumprod = squaredcos_cap_v2_alphas_cumprod(NUM_TRAIN_TIMESTEPS)
    batch = action.shape[0]
    model.train()
    times = []
    for i in range(warmup + steps):
        start = time.perf_counter()
        noise = torch.randn(action.shape, generator=generator)
        timesteps = torch.randint(0, NUM_TRAIN_TIMESTEPS, (batch,), generator=generator)
        noisy = add_noise(action, noise, timesteps, alphas_cumprod)
        loss = F.mse_loss(model(noisy, timesteps, cond), noise)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if not torch.isfinite(loss):
            raise RuntimeError("non-finite loss at step %d" % i)
        if i >= warmup:
            times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def time_sampling(model, cond, horizon, action_dim, warmup, runs, generator, timestep=torch.tensor):
    """Median ms of DP's conditional_sample at batch 1 under torch.no_grad(): 100 denoising steps, each a forward in
    eval mode (model(trajectory, timestep(t), cond)) and the DDPM step above. Shared with bench_dp_unet.py."""
    _, alphas_cumprod = squaredcos_cap_v2_alphas_cumprod(NUM_TRAIN_TIMESTEPS)
    timesteps = list(range(NUM_TRAIN_TIMESTEPS - 1, -1, -1))  # DDPMScheduler.set_timesteps(100) of 100
    model.eval()
    times = []
    with torch.no_grad():
        for i in range(warmup + runs):
            start = time.perf_counter()
            trajectory = torch.randn(1, horizon, action_dim, generator=generator)
            for t in timesteps:
                model_output = model(trajectory, timestep(t), cond)
                trajectory = ddpm_step(model_output, t, trajectory, alphas_cumprod, generator)
            if not torch.isfinite(trajectory).all():
                raise RuntimeError("non-finite sample")
            if i >= warmup:
                times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def bench_train(model, batch, warmup, steps, generator):
    cfg = PUSHT_LOWDIM
    optimizer = torch.optim.AdamW(model.get_optim_groups(OPTIMIZER["weight_decay"]), lr=OPTIMIZER["lr"],
                                  betas=OPTIMIZER["betas"])
    action = torch.rand(batch, cfg["horizon"], cfg["input_dim"], generator=generator) * 2 - 1
    obs = torch.rand(batch, cfg["n_obs_steps"], cfg["cond_dim"], generator=generator) * 2 - 1
    return time_training(model, optimizer, action, obs, warmup, steps, generator)


def bench_sample(model, warmup, runs, generator):
    cfg = PUSHT_LOWDIM
    obs = torch.rand(1, cfg["n_obs_steps"], cfg["cond_dim"], generator=generator) * 2 - 1
    return time_sampling(model, obs, cfg["horizon"], cfg["input_dim"], warmup, runs, generator)


REEXEC_MARK = "BENCH_DP_LOWDIM_BLAS_DIR"


def use_openblas(lib, threads):
    """Re-executes this script with libblas.so.3 resolved to lib (the dynamic loader reads LD_LIBRARY_PATH only at
    process start). Returns only in the re-executed process."""
    d = os.environ.get(REEXEC_MARK)
    if d:
        # torch is loaded by now (the import at the top): the link has done its job
        os.unlink(os.path.join(d, "libblas.so.3"))
        os.rmdir(d)
        return
    lib = os.path.abspath(lib)
    if not os.path.isfile(lib):
        sys.exit("--openblas: no such file: %s" % lib)
    d = tempfile.mkdtemp(prefix="bench-dp-blas-")
    os.symlink(lib, os.path.join(d, "libblas.so.3"))
    env = dict(os.environ)
    env[REEXEC_MARK] = d
    env["LD_LIBRARY_PATH"] = d + (":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
    env["OPENBLAS_NUM_THREADS"] = str(threads)
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.execve(sys.executable, [sys.executable] + sys.argv, env)


def loaded_blas():
    """The file behind libblas.so.3 in this process, from /proc/self/maps."""
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "blas" in line.rsplit("/", 1)[-1]}
    except OSError:
        return "unknown"
    paths = sorted(os.path.realpath(p) for p in paths if p.startswith("/"))
    return ",".join(paths) if paths else "none"


def main():
    ap = argparse.ArgumentParser(description="PyTorch DP-T low-dim benchmarks (one JSON line each)")
    ap.add_argument("bench", nargs="?", choices=["train", "sample", "all"], default="all")
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    ap.add_argument("--batch", type=int, default=256, help="training batch (default 256)")
    ap.add_argument("--warmup", type=int, default=2, help="untimed training steps / samplings first (default 2)")
    ap.add_argument("--steps", type=int, default=5, help="timed training steps (default 5)")
    ap.add_argument("--runs", type=int, default=5, help="timed 100-step samplings (default 5)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--n-layer", type=int, default=PUSHT_LOWDIM["n_layer"],
                    help="decoder layers (default 8; small_cpu: 2)")
    ap.add_argument("--n-emb", type=int, default=PUSHT_LOWDIM["n_emb"], help="width (default 256; small_cpu: 64)")
    ap.add_argument("--openblas", metavar="LIB", help="run torch's BLAS calls on this libopenblas.so (see above)")
    args = ap.parse_args()
    if args.openblas:
        use_openblas(args.openblas, args.threads)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    model = TransformerForDiffusion(**dict(PUSHT_LOWDIM, n_layer=args.n_layer, n_emb=args.n_emb))
    params = sum(p.numel() for p in model.parameters())
    common = dict(impl="pytorch", threads=torch.get_num_threads(), params=params, n_layer=args.n_layer,
                  n_emb=args.n_emb, torch=torch.__version__,
                  blas=loaded_blas(), omp_wait_policy=os.environ.get("OMP_WAIT_POLICY", "default"))
    if args.bench in ("train", "all"):
        ms = bench_train(model, args.batch, args.warmup, args.steps, generator)
        print(json.dumps(dict(bench="train", ms_per_step=round(ms, 3), samples_per_s=round(args.batch / ms * 1e3, 1),
                              ms_per_sampling=None, batch=args.batch, **common)), flush=True)
    if args.bench in ("sample", "all"):
        ms = bench_sample(model, args.warmup, args.runs, generator)
        print(json.dumps(dict(bench="sample", ms_per_step=round(ms / NUM_TRAIN_TIMESTEPS, 4),
                              samples_per_s=round(1e3 / ms, 2), ms_per_sampling=round(ms, 2), batch=1, **common)),
              flush=True)


if __name__ == "__main__":
    main()
