#!/usr/bin/env python3
"""Trains Diffusion Policy's low-dim transformer policy in PyTorch, with DP's recipe, on a robomimic-layout HDF5 file
that cotrain wrote (./cotrain generate): the reference for cotrain's learning parity (issue 17).

What it does, as DP's TrainDiffusionTransformerLowdimWorkspace with the push-T low-dim task does it:
  data        obs = concat(obs/keypoints, obs/agent_pos) per step, actions; demos in numeric order (demo_2 before
              demo_10); the held-out demos are given (--valid, the names cotrain's split chose) and every other demo
              trains (the first --max-train-episodes of them, in file order, as cotrain's max_train_episodes).
  windows     DP's SequenceSampler: every start in [-pad_before, L - horizon + pad_after] of every training demo, the
              first and last steps repeated into the padding (pad_before = n_obs_steps - 1, pad_after =
              n_action_steps - 1).
  normaliser  DP's LinearNormalizer, mode "limits", fitted on every step of the training demos: [-1, 1] per
              dimension, range_eps 1e-4.
  model       TransformerForDiffusion (transformer_for_diffusion.py beside this file) with DP's init.
  loss        DP's compute_loss with obs_as_cond: cond = the first n_obs_steps normalised observations, the whole
              normalised action window denoised, t uniform in [0, 100), epsilon MSE (squaredcos_cap_v2).
  optimizer   AdamW with DP's two groups (get_optim_groups), betas (0.9, 0.95); diffusers' cosine schedule with
              linear warm-up, stepped per optimizer step; EMA (DP's EMAModel: power 0.75, inv_gamma 1, max 0.9999).
  batches     --batch windows drawn uniformly with replacement each step (cotrain draws them so; DP shuffles epochs).

Held-out loss: the mean epsilon MSE of the training weights (eval mode) over every held-out window, averaged over
--val-draws draws of (t, noise) per window, at every --val-every steps. It also reports the standard error of a
single-draw estimate over the same windows (what cotrain's validation computes), so that a comparison can say how
much of a difference is evaluation noise.

Modes:
  --seeds 0,1,2,...          one run per seed; prints one JSON line per run and, with --parity-out FILE, writes the
                             parity fixture: every seed's held-out losses at each evaluation step, their mean and
                             standard deviation, the single-draw standard error and a digest of the data.
  --checkpoint-out FILE      (one seed) also writes a cotrain checkpoint: DP's policy state dict (model.*,
                             normalizer.params_dict.*), the EMA weights (ema_model.*) and --config-yaml as the
                             cotrain.config metadata, so that `./cotrain eval --checkpoint FILE` evaluates it in
                             cotrain's sandbox from the same initial conditions as cotrain's own policies.

Run with Debian's python3-torch and python3-h5py, e.g.
    /usr/bin/python3 tools/pytorch/train_dp_lowdim.py --hdf5 data.hdf5 --valid demo_3,demo_9 --steps 400 \
        --seeds 0,1,2,3,4,5,6,7 --parity-out src/test/resources/org/cotrain/train/learning_parity.json \
        --openblas target/openblas/org/bytedeco/openblas/linux-x86_64/libopenblas.so.0
"""
import argparse
import hashlib
import json
import math
import os
import sys
import time
from collections import OrderedDict

import h5py
import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_dp_lowdim import use_openblas  # noqa: E402
from transformer_for_diffusion import (TransformerForDiffusion, add_noise, safetensors_bytes,  # noqa: E402
                                       squaredcos_cap_v2_alphas_cumprod)

NUM_TRAIN_TIMESTEPS = 100
RANGE_EPS = 1e-4


def read_demos(path, obs_keys):
    """[(name, obs (L, Do) float32, actions (L, Da) float32)] in numeric demo order."""
    with h5py.File(path, "r") as f:
        names = sorted((n for n in f["data"].keys() if n.startswith("demo_")), key=lambda n: int(n[5:]))
        demos = []
        for n in names:
            g = f["data"][n]
            obs = np.concatenate([np.asarray(g["obs"][k], dtype=np.float32).reshape(len(g["actions"]), -1)
                                  for k in obs_keys], axis=1)
            demos.append((n, obs, np.asarray(g["actions"], dtype=np.float32)))
    return demos


def data_digest(demos):
    """sha256 over every demo's name, obs and actions (float32 little-endian): the fixture's data, exactly."""
    h = hashlib.sha256()
    for name, obs, act in demos:
        h.update(name.encode())
        h.update(obs.astype("<f4").tobytes())
        h.update(act.astype("<f4").tobytes())
    return h.hexdigest()


def fit_limits(x):
    """DP's LinearNormalizer 'limits' mode on (N, D): scale, offset and the input stats."""
    lo, hi = x.min(axis=0), x.max(axis=0)
    rng = hi - lo
    ignore = rng < RANGE_EPS
    rng = np.where(ignore, 2.0, rng)
    scale = 2.0 / rng
    offset = -1.0 - scale * lo
    offset = np.where(ignore, 0.0 - lo, offset)
    return dict(scale=scale.astype(np.float32), offset=offset.astype(np.float32), min=lo, max=hi,
                mean=x.mean(axis=0).astype(np.float32), std=x.std(axis=0, ddof=1).astype(np.float32))


def windows(demos, horizon, pad_before, pad_after):
    """Every DP SequenceSampler window as index arrays into each demo: [(demo index, step indices (horizon))]."""
    out = []
    for d, (_, obs, _) in enumerate(demos):
        n = len(obs)
        for start in range(-pad_before, n - horizon + pad_after + 1):
            out.append((d, np.clip(np.arange(start, start + horizon), 0, n - 1)))
    return out


def stack(demos, wins, norm_obs, norm_act, n_obs_steps):
    cond = np.stack([norm_obs[d][idx[:n_obs_steps]] for d, idx in wins])
    act = np.stack([norm_act[d][idx] for d, idx in wins])
    return torch.from_numpy(cond), torch.from_numpy(act)


def cosine_with_warmup(step, warmup, total):
    """diffusers' get_cosine_schedule_with_warmup factor at optimizer step `step` (0-based)."""
    if step < warmup:
        return step / max(1, warmup)
    progress = (step - warmup) / max(1, total - warmup)
    return max(0.0, 0.5 * (1.0 + math.cos(math.pi * progress)))


def ema_decay(optimization_step, power=0.75, inv_gamma=1.0, min_value=0.0, max_value=0.9999, update_after_step=0):
    step = max(0, optimization_step - update_after_step - 1)
    if step <= 0:
        return 0.0
    value = 1 - (1 + step / inv_gamma) ** -power
    return max(min_value, min(value, max_value))


def held_out_loss(model, cond, act, abar, draws, seed):
    """(mean over windows and draws, standard error of a single-draw mean over the windows)."""
    gen = torch.Generator().manual_seed(10_000 + seed)
    model.eval()
    per_window = []
    with torch.no_grad():
        for _ in range(draws):
            losses = []
            for i in range(0, len(act), 256):
                a, c = act[i:i + 256], cond[i:i + 256]
                noise = torch.randn(a.shape, generator=gen)
                t = torch.randint(0, NUM_TRAIN_TIMESTEPS, (len(a),), generator=gen)
                pred = model(add_noise(a, noise, t, abar), t, c)
                losses.append(((pred - noise) ** 2).mean(dim=(1, 2)))
            per_window.append(torch.cat(losses))
    model.train()
    x = torch.stack(per_window)  # (draws, windows)
    single_draw_se = float(x.std(dim=1, unbiased=True).mean() / math.sqrt(x.shape[1]))
    return float(x.mean()), single_draw_se


def train(args, seed, demos, valid):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    train_demos = [d for d in demos if d[0] not in valid][:args.max_train_episodes]
    val_demos = [d for d in demos if d[0] in valid]
    obs_n = fit_limits(np.concatenate([o for _, o, _ in train_demos]))
    act_n = fit_limits(np.concatenate([a for _, _, a in train_demos]))

    def norm(ds):
        return ([(o * obs_n["scale"] + obs_n["offset"]).astype(np.float32) for _, o, _ in ds],
                [(a * act_n["scale"] + act_n["offset"]).astype(np.float32) for _, _, a in ds])

    pad_before, pad_after = args.n_obs_steps - 1, args.n_action_steps - 1
    tr_obs, tr_act = norm(train_demos)
    va_obs, va_act = norm(val_demos)
    tr_w = windows(train_demos, args.horizon, pad_before, pad_after)
    va_cond, va_act_t = stack(val_demos, windows(val_demos, args.horizon, pad_before, pad_after), va_obs, va_act,
                              args.n_obs_steps)

    cfg = dict(input_dim=act_n["scale"].shape[0], output_dim=act_n["scale"].shape[0], horizon=args.horizon,
               n_obs_steps=args.n_obs_steps, cond_dim=obs_n["scale"].shape[0], n_layer=args.n_layer,
               n_head=args.n_head, n_emb=args.n_emb, p_drop_emb=0.0, p_drop_attn=args.p_drop_attn, causal_attn=True,
               time_as_cond=True, obs_as_cond=True, n_cond_layers=0)
    model = TransformerForDiffusion(**cfg)
    ema = TransformerForDiffusion(**cfg)
    ema.load_state_dict(model.state_dict())
    ema.eval()
    opt = torch.optim.AdamW(model.get_optim_groups(args.weight_decay), lr=args.lr, betas=(0.9, 0.95))
    _, abar = squaredcos_cap_v2_alphas_cumprod(NUM_TRAIN_TIMESTEPS)

    curve = []
    t0 = time.time()
    for step in range(args.steps + 1):
        if step % args.val_every == 0 or step == args.steps:
            loss, se = held_out_loss(model, va_cond, va_act_t, abar, args.val_draws, seed)
            curve.append(dict(step=step, held_out_loss=loss, single_draw_se=se))
        if step == args.steps:
            break
        for g in opt.param_groups:
            g["lr"] = args.lr * cosine_with_warmup(step, args.warmup, args.steps)
        pick = rng.integers(0, len(tr_w), args.batch)
        cond, act = stack(train_demos, [tr_w[i] for i in pick], tr_obs, tr_act, args.n_obs_steps)
        noise = torch.randn(act.shape)
        t = torch.randint(0, NUM_TRAIN_TIMESTEPS, (args.batch,))
        loss = F.mse_loss(model(add_noise(act, noise, t, abar), t, cond), noise)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            decay = ema_decay(step + 1)
            for pe, p in zip(ema.parameters(), model.parameters()):
                pe.mul_(decay).add_(p.detach(), alpha=1 - decay)
    seconds = time.time() - t0
    return dict(seed=seed, cfg=cfg, curve=curve, seconds=seconds, train_windows=len(tr_w),
                held_out_windows=len(va_act_t), train_demos=len(train_demos)), model, ema, obs_n, act_n


def write_checkpoint(path, config_yaml, model, ema, obs_n, act_n, steps):
    tensors = []
    tensors.append(("_dummy_variable", torch.zeros(0)))
    tensors.append(("mask_generator._dummy_variable", torch.zeros(0)))
    for k, v in model.state_dict().items():
        tensors.append(("model." + k, v))
    for key, n in (("obs", obs_n), ("action", act_n)):
        p = "normalizer.params_dict.%s." % key
        tensors.append((p + "scale", torch.from_numpy(n["scale"])))
        tensors.append((p + "offset", torch.from_numpy(n["offset"])))
        for s in ("min", "max", "mean", "std"):
            tensors.append((p + "input_stats." + s, torch.from_numpy(np.asarray(n[s], dtype=np.float32))))
    for name, p in ema.named_parameters():
        if p.numel() > 0:
            tensors.append(("ema_model.model." + name, p))
    meta = OrderedDict([("format", "pt"), ("cotrain.config", config_yaml), ("cotrain.global_step", str(steps)),
                        ("writer", "tools/pytorch/train_dp_lowdim.py, torch " + torch.__version__)])
    with open(path, "wb") as f:
        f.write(safetensors_bytes(tensors, meta))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hdf5", required=True)
    ap.add_argument("--valid", required=True, help="comma-separated held-out demo names (cotrain's split)")
    ap.add_argument("--obs-keys", default="keypoints,agent_pos")
    ap.add_argument("--max-train-episodes", type=int, default=10 ** 9)
    ap.add_argument("--steps", type=int, required=True)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--weight-decay", type=float, default=1e-1)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--horizon", type=int, default=16)
    ap.add_argument("--n-obs-steps", type=int, default=2)
    ap.add_argument("--n-action-steps", type=int, default=8)
    ap.add_argument("--n-layer", type=int, default=2)
    ap.add_argument("--n-head", type=int, default=4)
    ap.add_argument("--n-emb", type=int, default=64)
    ap.add_argument("--p-drop-attn", type=float, default=0.01)
    ap.add_argument("--val-every", type=int, default=100)
    ap.add_argument("--val-draws", type=int, default=8)
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--openblas", metavar="LIB", help="torch's BLAS calls on this libopenblas.so (see bench_dp_lowdim.py;"
                    " Debian's torch otherwise runs on the reference BLAS, some 10x slower)")
    ap.add_argument("--parity-out")
    ap.add_argument("--checkpoint-out")
    ap.add_argument("--config-yaml", help="the cotrain config to embed in --checkpoint-out")
    args = ap.parse_args()
    if args.openblas:
        use_openblas(args.openblas, args.threads)
    torch.set_num_threads(args.threads)

    demos = read_demos(args.hdf5, args.obs_keys.split(","))
    valid = set(args.valid.split(","))
    missing = valid - {d[0] for d in demos}
    if missing:
        sys.exit("%s: no demos %s" % (args.hdf5, sorted(missing)))
    seeds = [int(s) for s in args.seeds.split(",")]
    runs = []
    for seed in seeds:
        run, model, ema, obs_n, act_n = train(args, seed, demos, valid)
        print(json.dumps(run), flush=True)
        runs.append(run)
        if args.checkpoint_out:
            if not args.config_yaml:
                sys.exit("--checkpoint-out needs --config-yaml")
            with open(args.config_yaml) as f:
                write_checkpoint(args.checkpoint_out, f.read(), model, ema, obs_n, act_n, args.steps)
    if args.parity_out:
        steps = [c["step"] for c in runs[0]["curve"]]
        losses = [[r["curve"][i]["held_out_loss"] for r in runs] for i in range(len(steps))]
        out = OrderedDict([
            ("writer", "tools/pytorch/train_dp_lowdim.py, torch " + torch.__version__),
            ("command", " ".join(sys.argv)),
            ("data_sha256", data_digest(demos)),
            ("valid", sorted(valid, key=lambda n: int(n[5:]))),
            ("train_windows", runs[0]["train_windows"]),
            ("held_out_windows", runs[0]["held_out_windows"]),
            ("seeds", seeds),
            ("val_draws", args.val_draws),
            ("steps", steps),
            ("held_out_loss", losses),
            ("mean", [float(np.mean(x)) for x in losses]),
            ("sd_over_seeds", [float(np.std(x, ddof=1)) if len(x) > 1 else 0.0 for x in losses]),
            ("single_draw_se", [float(np.mean([r["curve"][i]["single_draw_se"] for r in runs]))
                                for i in range(len(steps))]),
        ])
        with open(args.parity_out, "w") as f:
            json.dump(out, f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main()
