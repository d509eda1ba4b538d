"""The thin layer between Copier and the template's logic (the gitops_template package beside
this file): `NamingContext` sets every derived name and path in the rendering context;
`NamingFilters` exposes the validators, default derivations and writers to copier.yml.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path

from copier_template_extensions import ContextHook
from jinja2 import pass_context
from jinja2.ext import Extension


def load_package(path: Path):
    """The package at `path`, loaded under a private name derived from that path.

    `copier update` renders the old and the new template version in one process, each from its
    own checkout: a package registered in sys.modules under one name would let the old version's
    code (and caches) serve the new one. The private name lives in sys.modules only while the
    package's modules import each other.
    """
    name = "_gitops_template_" + hashlib.sha256(str(path).encode()).hexdigest()[:16]
    spec = importlib.util.spec_from_file_location(name, path / "__init__.py", submodule_search_locations=[str(path)])
    package = importlib.util.module_from_spec(spec)
    sys.modules[name] = package
    try:
        spec.loader.exec_module(package)
    finally:
        for module in [module for module in sys.modules if module == name or module.startswith(name + ".")]:
            del sys.modules[module]
    return package


logic = load_package(Path(__file__).resolve().with_name("gitops_template"))


class NamingContext(ContextHook):
    def hook(self, context: dict) -> None:
        # Migrations and tasks render before answers exist: derive() returns {} then.
        context.update(logic.derive.derive(context))


class NamingFilters(Extension):
    def __init__(self, environment):
        super().__init__(environment)
        grammar, vcs, names, answers = logic.grammar, logic.vcs, logic.names, logic.answers
        environment.filters.update(
            app_name_error=app_name_error,
            orchestration_name_error=names.orchestration_name_error,
            environments_error=logic.fleet.environments_error,
            branch_error=vcs.branch_error,
            namespace_error=namespace_error,
            dns_label_error=lambda value, question: grammar.dns_label_error(question, value),
            hostname_error=lambda value, question, allow_port=False: grammar.hostname_error(question, value, allow_port),
            domain_error=names.domain_error,
            repo_url_error=vcs.repo_url_error,
            git_revision_error=vcs.git_revision_error,
            cluster_server_error=answers.cluster_server_error,
            git_secret_name_error=answers.git_secret_name_error,
            default_git_secret_name=answers.default_git_secret_name,
            image_repository_error=logic.images.image_repository_error,
            container_port_error=answers.container_port_error,
            description_error=answers.description_error,
            cidr_list_error=lambda value, question: grammar.cidr_list_error(question, value),
            cidr_list=grammar.cidr_list,
            label_map_error=lambda value, question, required=False: grammar.label_map_error(question, value, required),
            label_map=grammar.label_map,
            argocd_notify_error=answers.argocd_notify_error,
            image_registry_error=logic.images.image_registry_error,
            default_repo_url=answers.default_repo_url,
            default_image_repository=logic.images.default_image_repository,
            destination_error=destination_error,
            yaml_string=logic.formats.yaml_string,
            yaml_block=logic.formats.yaml_block,
            vault_server_error=logic.infrastructure.vault_server_error,
            markdown_text=logic.formats.markdown_text,
            markdown_code=logic.formats.markdown_code,
            shell_word=logic.formats.shell_word,
        )


# The two validators that read org answers beside their own: the names the platform owns follow them.
@pass_context
def app_name_error(context, value) -> str:
    return logic.names.app_name_error(value, context.get("flux_namespace", ""))


@pass_context
def namespace_error(context, value) -> str:
    return logic.names.namespace_error(value, logic.names.platform_namespaces(context))


def destination_error(copier_conf) -> str:
    """Refuse a copy into a folder that already holds files, before anything is written.

    The one look at the disk in these extensions: a validator is the only place Copier
    lets a template refuse before it renders. An update always runs with overwrite on.
    """
    path = Path(copier_conf["dst_path"])
    entries = sorted(entry.name for entry in path.iterdir()) if path.is_dir() else []
    # Copier names its answers file here only when told one (--answers-file); else the template's.
    answers_file = {"answers_file": str(copier_conf["answers_file"])} if copier_conf.get("answers_file") else {}
    return logic.answers.destination_error(str(path), entries, copier_conf["overwrite"], **answers_file)
