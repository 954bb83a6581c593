#!/usr/bin/env python3
"""Writes the noise-schedule fixture of NoiseScheduleTest / SchedulerTimestepsTest:
src/test/resources/org/cotrain/diffusion/noise_schedules_T100.txt

The tables are computed the way diffusers' DDPMScheduler / DDIMScheduler build them (diffusers is not needed, the
few lines are reproduced here): betas as a float32 torch tensor, alphas = 1.0 - betas, alphas_cumprod =
torch.cumprod(alphas, 0). The timestep lists follow diffusers 0.11.1 (the version Diffusion Policy pins):
DDPMScheduler.set_timesteps = arange(0, T, T // steps)[::-1], DDIMScheduler.set_timesteps =
(arange(0, steps) * (T // steps)).round()[::-1] + steps_offset.

Run with a Python that has torch (Debian's python3-torch): /usr/bin/python3 tools/pytorch/noise_schedule_fixture.py
Format: one array per line, "name v0 v1 ...", floats as the shortest decimal that round-trips to the float32.
"""
import math
import os

import numpy as np
import torch

T = 100
BETA_START = 0.0001
BETA_END = 0.02
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src", "test", "resources", "org",
                   "cotrain", "diffusion", "noise_schedules_T100.txt")


def betas_for_alpha_bar(num_diffusion_timesteps, max_beta=0.999):
    # diffusers.schedulers.scheduling_ddpm.betas_for_alpha_bar (squaredcos_cap_v2)
    def alpha_bar(time_step):
        return math.cos((time_step + 0.008) / 1.008 * math.pi / 2) ** 2

    betas = []
    for i in range(num_diffusion_timesteps):
        t1 = i / num_diffusion_timesteps
        t2 = (i + 1) / num_diffusion_timesteps
        betas.append(min(1 - alpha_bar(t2) / alpha_bar(t1), max_beta))
    return torch.tensor(betas, dtype=torch.float32)


def schedule(beta_schedule):
    # DDPMScheduler.__init__ (DDIMScheduler's is the same)
    if beta_schedule == "linear":
        betas = torch.linspace(BETA_START, BETA_END, T, dtype=torch.float32)
    elif beta_schedule == "scaled_linear":
        betas = torch.linspace(BETA_START ** 0.5, BETA_END ** 0.5, T, dtype=torch.float32) ** 2
    elif beta_schedule == "squaredcos_cap_v2":
        betas = betas_for_alpha_bar(T)
    else:
        raise ValueError(beta_schedule)
    alphas = 1.0 - betas
    alphas_cumprod = torch.cumprod(alphas, dim=0)
    return betas, alphas_cumprod


def floats(values):
    return " ".join(str(np.float32(v)) for v in values)


def main():
    lines = ["# written by tools/pytorch/noise_schedule_fixture.py with torch " + torch.__version__
             + "; T = %d, beta_start = %r, beta_end = %r" % (T, BETA_START, BETA_END)]
    for name in ("squaredcos_cap_v2", "linear", "scaled_linear"):
        betas, alphas_cumprod = schedule(name)
        lines.append("betas/%s %s" % (name, floats(betas.numpy())))
        lines.append("alphas_cumprod/%s %s" % (name, floats(alphas_cumprod.numpy())))
    for steps in (100, 10, 16):
        ddpm = np.arange(0, T, T // steps)[::-1]
        lines.append("ddpm_timesteps/%d %s" % (steps, " ".join(str(int(t)) for t in ddpm)))
        for offset in (0, 1):
            if (steps - 1) * (T // steps) + offset >= T:
                continue  # would index alphas_cumprod[T]: diffusers fails at the first step
            ddim = (np.arange(0, steps) * (T // steps)).round()[::-1].astype(np.int64) + offset
            lines.append("ddim_timesteps/%d/%d %s" % (steps, offset, " ".join(str(int(t)) for t in ddim)))
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote", os.path.normpath(OUT))


if __name__ == "__main__":
    main()
