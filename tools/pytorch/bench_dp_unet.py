#!/usr/bin/env python3
"""The PyTorch side of cotrain's DP-C low-dim benchmarks (issue 16): the training step and 100-step DDPM sampling of
Diffusion Policy's ConditionalUnet1D on the model definition of the parity fixtures (conditional_unet1d.py beside
this file), with the timing loops, the DDPM step and the BLAS handling of bench_dp_lowdim.py (see its docstring for
--openblas and OMP_WAIT_POLICY).

Sizes (--size):
  full   DP's push-T low-dim CNN (train_diffusion_unet_lowdim_workspace.yaml, task pusht_lowdim): obs_dim 20,
         n_obs_steps 2 as the global condition, action_dim 2, horizon 16, diffusion_step_embed_dim 256,
         down_dims [256, 512, 1024], kernel_size 5, n_groups 8, cond_predict_scale; = preset pusht_lowdim_unet.
  small  preset small_cpu_unet: the same with diffusion_step_embed_dim 32, down_dims [32, 64].
Optimizer as DP's CNN workspaces: AdamW lr 1e-4, betas (0.95, 0.999), weight_decay 1e-6 on every parameter.

    /usr/bin/python3 tools/pytorch/bench_dp_unet.py train --size small --threads 2 --batch 256 \
        --openblas target/openblas/org/bytedeco/openblas/linux-x86_64/libopenblas.so.0

Prints one JSON line per benchmark, the fields of bench_dp_lowdim.py's.
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_dp_lowdim import loaded_blas, time_sampling, time_training, use_openblas  # noqa: E402
from conditional_unet1d import FULL_SIZE, make_model  # noqa: E402

SIZES = {"full": FULL_SIZE, "small": dict(FULL_SIZE, diffusion_step_embed_dim=32, down_dims=[32, 64])}
OPTIMIZER = dict(lr=1e-4, betas=(0.95, 0.999), weight_decay=1e-6)
NUM_TRAIN_TIMESTEPS = 100  # DDPM steps of a sampling (bench_dp_lowdim.py runs them)


def global_cond(cfg, batch, generator):
    # DP's obs_as_global_cond: the To normalised observations flattened, (B, To * Do)
    return torch.rand(batch, cfg["n_obs_steps"] * cfg["cond_dim"], generator=generator) * 2 - 1


def bench_train(model, cfg, batch, warmup, steps, generator):
    optimizer = torch.optim.AdamW(model.parameters(), **OPTIMIZER)
    action = torch.rand(batch, cfg["horizon"], cfg["input_dim"], generator=generator) * 2 - 1
    return time_training(model, optimizer, action, global_cond(cfg, batch, generator), warmup, steps, generator)


def bench_sample(model, cfg, warmup, runs, generator):
    return time_sampling(model, global_cond(cfg, 1, generator), cfg["horizon"], cfg["input_dim"], warmup, runs,
                         generator, timestep=lambda t: torch.tensor([t]))


def main():
    ap = argparse.ArgumentParser(description="PyTorch DP-C low-dim benchmarks (one JSON line each)")
    ap.add_argument("bench", nargs="?", choices=["train", "sample", "all"], default="all")
    ap.add_argument("--size", choices=sorted(SIZES), default="full")
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    ap.add_argument("--batch", type=int, default=256, help="training batch (default 256)")
    ap.add_argument("--warmup", type=int, default=2, help="untimed training steps / samplings first (default 2)")
    ap.add_argument("--steps", type=int, default=5, help="timed training steps (default 5)")
    ap.add_argument("--runs", type=int, default=5, help="timed 100-step samplings (default 5)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--openblas", metavar="LIB", help="run torch's BLAS calls on this libopenblas.so")
    args = ap.parse_args()
    if args.openblas:
        use_openblas(args.openblas, args.threads)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    cfg = SIZES[args.size]
    model = make_model(cfg)
    params = sum(p.numel() for p in model.parameters())
    common = dict(impl="pytorch", model="dp-c", size=args.size, threads=torch.get_num_threads(), params=params,
                  down_dims=cfg["down_dims"], torch=torch.__version__, blas=loaded_blas(),
                  omp_wait_policy=os.environ.get("OMP_WAIT_POLICY", "default"))
    if args.bench in ("train", "all"):
        ms = bench_train(model, cfg, args.batch, args.warmup, args.steps, generator)
        print(json.dumps(dict(bench="train", ms_per_step=round(ms, 3), samples_per_s=round(args.batch / ms * 1e3, 1),
                              ms_per_sampling=None, batch=args.batch, **common)), flush=True)
    if args.bench in ("sample", "all"):
        ms = bench_sample(model, cfg, args.warmup, args.runs, generator)
        print(json.dumps(dict(bench="sample", ms_per_step=round(ms / NUM_TRAIN_TIMESTEPS, 4),
                              samples_per_s=round(1e3 / ms, 2), ms_per_sampling=round(ms, 2), batch=1, **common)),
              flush=True)


if __name__ == "__main__":
    main()
