"""The thin layer between Copier and extensions/naming.py.

`NamingContext` sets every derived name and path in the rendering context; `NamingFilters`
exposes the validators and default derivations to copier.yml. Both only call naming.py.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from copier_template_extensions import ContextHook
from jinja2.ext import Extension


def _load_naming():
    # Copier loads this file by path, not as a package, so its sibling is loaded the same way.
    name = "gitops_template_naming"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("naming.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


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
            namespace_error=naming.namespace_error,
            dns_label_error=lambda value, question: naming.dns_label_error(question, value),
            hostname_error=lambda value, question, allow_port=False: naming.hostname_error(question, value, allow_port),
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
        )
