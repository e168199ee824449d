"""The administration pages (administrators only; importing this module attaches them to the blueprint).

==========================================================  ===========================================
``GET /admin``                                              overview with a link to each section
``GET|POST /admin/users``                                   user list with search; create a user
``GET|POST /admin/users/<id>``                              edit a user, reset the password
``POST /admin/users/<id>/assignments``                      assign a published role
``POST /admin/assignments/<id>/renew`` / ``/end``           renew or end a role assignment
``GET|POST /admin/departments``                             department tree; create
``POST /admin/departments/<id>`` / ``/delete``              rename or move; delete an empty one
``GET|POST /admin/tokens``                                  integrator tokens; create (shown once)
``POST /admin/tokens/<id>/revoke``                          revoke a token
``GET /admin/roles``, ``POST /admin/roles/new``             role definitions per app; new role
``GET /admin/roles/<app>/<name>``                           the role editor with its versions
``POST .../draft``, ``.../publish``, ``.../rollback/<v>``   save a draft, publish, roll back
``GET /admin/explain``                                      what a user may do on an entity, and why
``GET /admin/review``                                       the permission review report
``GET /admin/security``                                     recent security events, by kind
``GET /admin/integrations``, ``POST .../replay``             delivery health, dead letters; replay
==========================================================  ===========================================
"""

from __future__ import annotations

from lowcode.pages import (
    admin_assignments,
    admin_integrations,
    admin_org,
    admin_reports,
    admin_roles,
    admin_users,
)

MODULES = (admin_users, admin_assignments, admin_org, admin_roles, admin_reports, admin_integrations)
"""The modules whose views make up the administration pages."""
