"""A real network DVC remote: push a LoRA adapter to a throwaway OpenSSH server and pull it into a clone.

The test starts ``sshd`` on 127.0.0.1 with a throwaway host key and client key and skips (with the reason)
when ``sshd`` is missing or does not come up. ``PAPERDCAT_SSHD`` overrides the path of the ``sshd`` binary.
"""

from __future__ import annotations

import getpass
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from commands import run

SSHD_START_TIMEOUT_S = 5.0
REMOTE_NAME = "storage"
ADAPTER = Path("models/adapter")


@dataclass(frozen=True)
class SshServer:
    """Where the throwaway sshd listens and how to log in to it."""

    user: str
    port: int
    client_key: Path
    log: Path

    def url(self, remote_dir: Path) -> str:
        """The ``ssh://`` URL of ``remote_dir`` on this server."""
        return f"ssh://{self.user}@127.0.0.1:{self.port}{remote_dir}"


def dvc(*args: str) -> list[str]:
    """The command line of ``dvc`` from this interpreter's environment."""
    return [sys.executable, "-m", "dvc", *args]


def sshd_binary() -> Path:
    """The sshd to start: ``$PAPERDCAT_SSHD``, else /usr/sbin/sshd, else ``sshd`` on PATH."""
    if override := os.environ.get("PAPERDCAT_SSHD"):
        return Path(override)
    default = Path("/usr/sbin/sshd")
    if default.exists():
        return default
    return Path(shutil.which("sshd") or default)


def missing_ssh_tools() -> str:
    """Why the SSH remote test cannot run on this machine, or "" when sshd and ssh-keygen are present."""
    sshd = sshd_binary()
    if not (sshd.is_file() and os.access(sshd, os.X_OK)):
        return f"sshd not found at {sshd} (install openssh-server); skipping the SSH remote test"
    if shutil.which("ssh-keygen") is None:
        return "ssh-keygen not found (install openssh-client); skipping the SSH remote test"
    return ""


pytestmark = [pytest.mark.slow, pytest.mark.skipif(bool(missing_ssh_tools()), reason=missing_ssh_tools())]


def free_local_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_ssh_banner(port: int, server: subprocess.Popen[bytes], timeout_s: float) -> bool:
    """Whether a server on ``port`` answers with an SSH banner before ``timeout_s`` or the process exits."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and server.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
                if connection.recv(64).startswith(b"SSH-"):
                    return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


def generate_key(path: Path) -> None:
    """An unencrypted ed25519 key pair at ``path`` and ``path.pub``."""
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "paperdcat-test", "-f", str(path)],
        check=True,
        capture_output=True,
    )


@pytest.fixture
def ssh_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshServer]:
    """A foreground sshd on 127.0.0.1 that accepts only a throwaway client key; killed at teardown."""
    if os.geteuid() == 0:
        try:
            Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation dir
        except OSError as error:
            pytest.skip(f"cannot create sshd's privilege separation dir /run/sshd: {error}")

    folder = tmp_path_factory.mktemp("sshd")
    host_key, client_key = folder / "host_ed25519", folder / "client_ed25519"
    generate_key(host_key)
    generate_key(client_key)
    authorized_keys = folder / "authorized_keys"
    shutil.copyfile(client_key.with_suffix(".pub"), authorized_keys)

    port = free_local_port()
    config = folder / "sshd_config"
    config.write_text(
        f"ListenAddress 127.0.0.1:{port}\n"
        f"HostKey {host_key}\n"
        f"AuthorizedKeysFile {authorized_keys}\n"
        "PidFile none\n"
        "StrictModes no\n"
        "UsePAM no\n"
        "PubkeyAuthentication yes\n"
        "PasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\n"
        "PermitRootLogin prohibit-password\n"
        "Subsystem sftp internal-sftp\n"
    )
    log_path = folder / "sshd.log"
    with log_path.open("wb") as log:
        command = [str(sshd_binary().resolve()), "-D", "-e", "-f", str(config)]
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        if not wait_for_ssh_banner(port, server, SSHD_START_TIMEOUT_S):
            log_lines = log_path.read_text(errors="replace").strip().splitlines()
            pytest.skip(
                f"sshd did not accept connections on 127.0.0.1:{port} within {SSHD_START_TIMEOUT_S:.0f} s: "
                f"{log_lines[-1] if log_lines else 'no output'}"
            )
        yield SshServer(user=getpass.getuser(), port=port, client_key=client_key, log=log_path)
    finally:
        server.terminate()
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def build_adapter(base_model: Path, destination: Path) -> None:
    """Save a real (untrained) rank-2 LoRA adapter on ``base_model`` to ``destination``."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(base_model)
    config = LoraConfig(r=2, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM")
    get_peft_model(model, config).save_pretrained(destination)


def file_contents(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder``, by path relative to it."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_push_to_ssh_remote_and_pull_into_a_clone(
    ssh_server: SshServer, tiny_model_dir: Path, tmp_path: Path
) -> None:
    """`dvc push` over SSH stores the adapter's files; `dvc pull` in a fresh clone restores them exactly."""
    import torch
    from peft import PeftModel, get_peft_model_state_dict
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM

    home, project, clone, remote_dir = (tmp_path / name for name in ("home", "project", "clone", "remote"))
    for folder in (home, project, remote_dir):
        folder.mkdir()

    run(["git", "init", "-q"], project, home=home)
    run(dvc("init", "-q"), project, home=home)
    build_adapter(tiny_model_dir, project / ADAPTER)
    original = file_contents(project / ADAPTER)
    assert "adapter_model.safetensors" in original
    assert "adapter_config.json" in original

    run(dvc("add", "-q", str(ADAPTER)), project, home=home)
    run(dvc("remote", "add", "-d", REMOTE_NAME, ssh_server.url(remote_dir)), project, home=home)
    use_key = dvc("remote", "modify", "--local", REMOTE_NAME, "keyfile", str(ssh_server.client_key))
    run(use_key, project, home=home)
    run(["git", "add", "-A"], project, home=home)
    run(["git", "commit", "-q", "-m", "adapter tracked by dvc, ssh remote"], project, home=home)
    assert "keyfile" not in (project / ".dvc/config").read_text(), "credentials must stay in config.local"

    run(dvc("push"), project, home=home)
    assert "Accepted publickey" in ssh_server.log.read_text(errors="replace"), "no login via sshd"
    pushed = {p.name for p in remote_dir.rglob("*") if p.is_file()}
    for name, content in original.items():
        digest = hashlib.md5(content).hexdigest()
        assert digest[2:] in pushed, f"{name} (md5 {digest}) is missing from the remote"
    assert any(name.endswith(".dir") for name in pushed), "the directory manifest is missing from the remote"

    run(["git", "clone", "-q", str(project), str(clone)], tmp_path, home=home)
    assert not (clone / ADAPTER).exists()
    run(use_key, clone, home=home)
    run(dvc("pull", str(ADAPTER)), clone, home=home)

    assert file_contents(clone / ADAPTER) == original
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    pulled = PeftModel.from_pretrained(base, clone / ADAPTER)
    assert pulled.peft_config["default"].r == 2
    pulled_weights = get_peft_model_state_dict(pulled)
    assert pulled_weights and all(".q_proj." in k or ".v_proj." in k for k in pulled_weights)
    saved_weights = load_file(project / ADAPTER / "adapter_model.safetensors")
    assert pulled_weights.keys() == saved_weights.keys()
    assert all(torch.equal(pulled_weights[k], saved_weights[k]) for k in saved_weights)
