"""Write the full odoo.conf: the chart's template plus credentials read from Secret-backed env vars.

Runs as the init container of every Odoo pod and hook Job, so admin_passwd and the database
credentials live only in a memory-backed emptyDir, never in a ConfigMap, values or an env literal.
Usage: render-config.py TEMPLATE OUTPUT
"""

import os
import sys

# odoo.conf option <- environment variable (filled from secretKeyRef by the chart)
SECRET_OPTIONS = (("admin_passwd", "ODOO_ADMIN_PASSWD"), ("db_user", "PGUSER"), ("db_password", "PGPASSWORD"))


def secret_lines(environ):
    lines = []
    for option, variable in SECRET_OPTIONS:
        value = environ.get(variable)
        if not value:
            raise SystemExit(f"render-config: {variable} is empty; check the Secret behind {option}")
        if "\n" in value or "\r" in value:
            raise SystemExit(f"render-config: {variable} contains a line break; refusing to write {option}")
        lines.append(f"{option} = {value}")
    return lines


def render(template_text, environ):
    for option, _ in SECRET_OPTIONS:
        for line in template_text.splitlines():
            if line.replace(" ", "").startswith(option + "="):
                raise SystemExit(f"render-config: the template must not set {option}")
    return template_text.rstrip("\n") + "\n" + "\n".join(secret_lines(environ)) + "\n"


def main(argv):
    if len(argv) != 3:
        raise SystemExit("usage: render-config.py TEMPLATE OUTPUT")
    with open(argv[1], encoding="utf-8") as handle:
        text = render(handle.read(), os.environ)
    fd = os.open(argv[2], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


if __name__ == "__main__":
    main(sys.argv)
