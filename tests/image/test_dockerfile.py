"""The rendered Dockerfile and Odoo config."""

from __future__ import annotations

from gitops.image.dockerfile import DockerfileInputs, addons_path_for, render_dockerfile, render_odoo_conf

BASE = "reg.example.com/odoo@sha256:" + "a" * 64


def test_layers_in_cache_order_and_base_user_restored() -> None:
    text = render_dockerfile(
        DockerfileInputs(
            base=BASE,
            user="odoo",
            requirements=("phonenumbers==8.13.0",),
            system_packages=("libldap2-dev",),
            labels={"org.opencontainers.image.version": "1.2.0"},
        )
    )
    lines = [line for line in text.splitlines() if line and not line.startswith(("#", " "))]
    kinds = [line.split()[0] for line in lines]
    assert kinds == ["FROM", "USER", "RUN", "COPY", "RUN", "COPY", "COPY", "LABEL", "USER"]
    assert lines[0] == f"FROM {BASE}"
    assert "apt-get install -y --no-install-recommends libldap2-dev" in text
    assert lines[-1] == "USER odoo"
    assert "ENV" not in kinds and "ARG" not in kinds  # nothing secret can be passed in


def test_without_requirements_no_pip_and_labels_quoted() -> None:
    text = render_dockerfile(DockerfileInputs(base=BASE, labels={"k": 'a "b" $HOME \\ c'}))
    assert "pip" not in text and "apt-get" not in text
    assert 'k="a \\"b\\" \\$HOME \\\\ c"' in text


def test_odoo_conf_has_paths_and_no_password() -> None:
    conf = render_odoo_conf(addons_path=addons_path_for(["/var/lib/odoo", "/mnt/extra-addons"]))
    assert "addons_path = /opt/odoo/custom-addons,/mnt/extra-addons\n" in conf
    assert "data_dir = /var/lib/odoo" in conf
    assert "admin_passwd" not in conf and "db_password" not in conf
