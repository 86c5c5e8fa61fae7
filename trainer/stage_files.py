"""Which maou data files each stage reads, and their train/validation split (no torch here:
``maou-train`` checks the files before it creates a run directory)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from trainer.config import ConfigError, TrainConfig
from trainer.shogi import maou_files


@dataclass(frozen=True)
class StageFiles:
    """A stage's maou data files, split into training and validation parts."""

    train: list[maou_files.FilePart]
    val: list[maou_files.FilePart]
    mode: maou_files.PolicyMode


def is_hcpe(path: Path) -> bool:
    """An HCPE file: a plain file that is not Arrow IPC (HCPE has no header to check)."""
    return path.is_file() and not maou_files.is_arrow_file(path)


def stage_files(config: TrainConfig, stage: int) -> StageFiles | None:
    """The maou data files of ``stage``'s option, or None (generated data, or HCPE files).

    Raises ``maou_files.MaouDataError`` (one line naming the file) for a wrong file.
    """
    mode = config.policy_target_mode
    if stage == 1 and config.stage1_data_path is not None:
        # Like maou, Stage 1 has no validation split: the 1,105 patterns are the task itself.
        files = maou_files.inspect_paths([config.stage1_data_path], "--stage1-data-path", "stage1")
        return StageFiles([maou_files.FilePart(f) for f in files], [], mode)
    if stage == 2 and config.stage2_data_path is not None:
        files = maou_files.inspect_paths([config.stage2_data_path], "--stage2-data-path", "stage2")
        return StageFiles(
            *maou_files.split_parts(files, config.stage2_test_ratio, config.seed), mode
        )
    paths = [Path(p).expanduser() for p in config.stage3_data_path or []]
    if stage != 3 or not paths or all(is_hcpe(p) for p in paths):
        return None
    kind: maou_files.Kind = "preprocessing"
    files = maou_files.inspect_paths(paths, "--stage3-data-path", kind)
    if config.stage3_validation_data_path is None:
        return StageFiles(*maou_files.split_parts(files, config.test_ratio, config.seed), mode)
    val = maou_files.inspect_paths(
        [config.stage3_validation_data_path], "--stage3-validation-data-path", kind
    )
    return StageFiles(
        [maou_files.FilePart(f) for f in files], [maou_files.FilePart(f) for f in val], mode
    )


def check_stage_files(config: TrainConfig) -> None:
    """Open every data file the run's stages will read; ConfigError (one line) for a wrong one."""
    for stage in config.stages():
        try:
            stage_files(config, stage)
        except maou_files.MaouDataError as exc:
            raise ConfigError(str(exc)) from None
