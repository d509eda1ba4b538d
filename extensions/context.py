"""The thin layer between Copier and extensions/naming.py.

`NamingContext` sets every derived name and path in the rendering context; `NamingFilters`
exposes the validators and default derivations to copier.yml. Both only call naming.py.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from copier_template_extensions import ContextHook
from jinja2.ext import Extension


def _load_naming():
    # Copier loads this file by path, not as a package, so its sibling is loaded the same way.
    # `copier update` renders the old and the new template version in one process: the module
    # is never registered in sys.modules, so each version runs its own naming.py (and caches).
    spec = importlib.util.spec_from_file_location("naming", Path(__file__).with_name("naming.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


naming = _load_naming()


class NamingContext(ContextHook):
    def hook(self, context: dict) -> None:
        # Migrations and tasks render before answers exist: derive() returns {} then.
        context.update(naming.derive(context))


class NamingFilters(Extension):
    def __init__(self, environment):
        super().__init__(environment)
        environment.filters.update(
            app_name_error=naming.app_name_error,
            orchestration_name_error=naming.orchestration_name_error,
            environments_error=naming.environments_error,
            branch_error=naming.branch_error,
            namespace_error=naming.namespace_error,
            dns_label_error=lambda value, question: naming.dns_label_error(question, value),
            hostname_error=lambda value, question, allow_port=False: naming.hostname_error(question, value, allow_port),
            domain_error=naming.domain_error,
            repo_url_error=naming.repo_url_error,
            git_revision_error=naming.git_revision_error,
            cluster_server_error=naming.cluster_server_error,
            git_secret_name_error=naming.git_secret_name_error,
            default_git_secret_name=naming.default_git_secret_name,
            image_repository_error=naming.image_repository_error,
            container_port_error=naming.container_port_error,
            description_error=naming.description_error,
            cidr_list_error=lambda value, question: naming.cidr_list_error(question, value),
            cidr_list=naming.cidr_list,
            label_map_error=lambda value, question: naming.label_map_error(question, value),
            label_map=naming.label_map,
            notification_target_error=lambda value, question: naming.notification_target_error(question, value),
            default_repo_url=naming.default_repo_url,
            default_image_repository=naming.default_image_repository,
            destination_error=destination_error,
            yaml_string=naming.yaml_string,
            yaml_block=naming.yaml_block,
            vault_server_error=naming.vault_server_error,
            markdown_text=naming.markdown_text,
            markdown_code=naming.markdown_code,
            shell_word=naming.shell_word,
        )


def destination_error(copier_conf) -> str:
    """Refuse a copy into a folder that already holds files, before anything is written.

    The one look at the disk in these extensions: a validator is the only place Copier
    lets a template refuse before it renders. An update always runs with overwrite on.
    """
    path = Path(copier_conf["dst_path"])
    entries = sorted(entry.name for entry in path.iterdir()) if path.is_dir() else []
    return naming.destination_error(str(path), entries, copier_conf["overwrite"])
