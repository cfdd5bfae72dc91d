"""The inbox: built-in views (queues) and saved views with filters, sorting and keyset
pagination, the sidebar with capped counts, saving views, and bulk changes.

Every link and form works without JavaScript; htmx swaps only the ticket area (#ticket-area)
when filtering or paging, and then the server renders only that part."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from deskpilot.accounts.access import agent_required, page_user, staff_required
from deskpilot.accounts.models import AGENT_ROLES, Team, User
from deskpilot.core.errors import InvalidInput, StaleVersion
from deskpilot.tickets import bulk as bulk_changes
from deskpilot.tickets import saved_views
from deskpilot.tickets.forms import SavedViewForm
from deskpilot.tickets.models import Priority, SavedView, Status
from deskpilot.tickets.saved_views import FILTER_KEYS, Queue

TABLE_TARGET = "ticket-area"
SORT_CHOICES = [
    ("-id", "Newest first"),
    ("id", "Oldest first"),
    ("-updated_at", "Recently updated"),
    ("updated_at", "Least recently updated"),
    ("-created_at", "Created, newest"),
    ("created_at", "Created, oldest"),
    # Only tickets with a running SLA clock, most overdue first.
    ("sla_next_breach_at", "Next SLA breach"),
]


def with_query(params: QueryDict, **changes: str | None) -> str:
    """``?query`` of params with some keys replaced (None removes them)."""
    query = params.copy()
    for key, value in changes.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = value
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else "?"


def wants_area(request: HttpRequest) -> bool:
    """An htmx request that swaps only the ticket area: render just that part."""
    htmx = getattr(request, "htmx", None)
    return htmx is not None and bool(htmx) and htmx.target == TABLE_TARGET


def _sidebar(user: User, current: str) -> dict[str, Any]:
    """The views with their capped counts: one cheap query per view (COUNT over LIMIT 1001)."""
    queues = []
    for queue in saved_views.queues_for(user):
        count = saved_views.capped_count(saved_views.queue_tickets(user, queue, {}))
        queues.append(
            {
                "label": queue.label,
                "url": reverse("tickets:inbox_view", kwargs={"view": queue.slug}),
                "count": saved_views.count_label(count),
                "current": current == queue.slug,
            }
        )
    saved = []
    for view in saved_views.visible_saved_views(user):
        try:
            count_text = saved_views.count_label(
                saved_views.capped_count(saved_views.queue_tickets(user, saved_views.saved_queue(view), view.filters))
            )
        except InvalidInput:
            count_text = "!"
        saved.append(
            {
                "label": view.name,
                "url": reverse("tickets:saved_view", kwargs={"view_id": view.pk}),
                "count": count_text,
                "current": current == f"saved-{view.pk}",
                "shared": view.shared,
            }
        )
    return {"queues": queues, "saved": saved}


def _render(
    request: HttpRequest,
    *,
    queue: Queue,
    saved: SavedView | None = None,
    save_form: SavedViewForm | None = None,
    edit_form: SavedViewForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = page_user(request)
    params = request.GET
    error: InvalidInput | None = None
    rows: list[Any] = []
    next_cursor = None
    filters: dict[str, Any] = {}
    has_url_filters = any(key in params for key in FILTER_KEYS)
    sort = params.get("sort") or (saved.sort if saved else None) or queue.default_sort
    try:
        filters = saved_views.filters_from_query(params)
        if saved is not None and not has_url_filters:
            filters = {k: v for k, v in saved.filters.items() if k != "view"}
        rows, next_cursor = saved_views.queue_page(user, queue, filters, sort=sort, cursor=params.get("cursor") or None)
    except InvalidInput as problem:
        error, status = problem, 422
    selectable = user.role in AGENT_ROLES
    # A form that failed (POST) is shown on the page it came from: links and forms point there.
    if request.method == "GET":
        page_path = request.path
    elif saved is not None:
        page_path = reverse("tickets:saved_view", kwargs={"view_id": saved.pk})
    else:
        page_path = reverse("tickets:inbox_view", kwargs={"view": queue.slug})
    current = f"saved-{saved.pk}" if saved else queue.slug
    context: dict[str, Any] = {
        "queue": queue,
        "saved": saved,
        "title": saved.name if saved else queue.label,
        "rows": rows,
        "error": error,
        "filters": filters,
        "filter_pairs": [(k, v) for k, vs in filters.items() for v in ([vs] if isinstance(vs, str) else vs)],
        "sort": sort,
        "sort_choices": [(v, label) for v, label in SORT_CHOICES if v.lstrip("-") in queue.sorts]
        + ([("-solved_at", "Recently solved")] if "solved_at" in queue.sorts else []),
        "next_url": with_query(params, cursor=next_cursor) if next_cursor else None,
        "first_url": with_query(params, cursor=None) if params.get("cursor") else None,
        "selectable": selectable,
        "page_path": page_path,
        "here": page_path + (f"?{params.urlencode()}" if params else ""),
        "table_target": TABLE_TARGET,
        "statuses": Status.choices,
        "priorities": Priority.choices,
        "save_form": save_form or SavedViewForm(may_share=saved_views.may_share(user)),
        "view_slug": queue.slug,
    }
    context["teams"], context["agents"] = _people()
    if wants_area(request):
        return render(request, "tickets/inbox_area.html", context, status=status)
    context["sidebar"] = _sidebar(user, current)
    if saved is not None:
        context["can_edit"] = saved_views.can_edit(user, saved)
        context["edit_form"] = edit_form or SavedViewForm(
            initial={"name": saved.name, "shared": saved.shared},
            may_share=saved_views.may_share(user),
            prefix="edit",
        )
    return render(request, "tickets/inbox.html", context, status=status)


def _people() -> tuple[list[Team], list[User]]:
    """Choices of the filter bar and the bulk bar: one query each."""
    teams = list(Team.objects.order_by("name"))
    agents = list(User.objects.filter(role__in=AGENT_ROLES, is_active=True).order_by("name", "id"))
    return teams, agents


@require_GET
@staff_required
def inbox(request: HttpRequest, view: str = "") -> HttpResponse:
    user = page_user(request)
    queue = saved_views.get_queue(user, view) if view else saved_views.default_queue(user)
    return _render(request, queue=queue)


@require_GET
@staff_required
def saved_view(request: HttpRequest, view_id: int) -> HttpResponse:
    saved = saved_views.get_saved_view(page_user(request), view_id)
    return _render(request, queue=saved_views.saved_queue(saved), saved=saved)


def _origin(request: HttpRequest) -> str:
    """The page a form came from (its "next" field), only if it is on this site."""
    wanted = request.POST.get("next") or ""
    if wanted.startswith("/") and url_has_allowed_host_and_scheme(
        wanted, {request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return reverse("tickets:inbox")


@require_POST
@staff_required
def create_saved_view(request: HttpRequest) -> HttpResponse:
    """Save the current filters (hidden fields of the form) under a name."""
    user = page_user(request)
    form = SavedViewForm(request.POST, may_share=saved_views.may_share(user))
    slug = request.POST.get("view") or ""
    queue = saved_views.get_queue(user, slug) if slug else saved_views.default_queue(user)
    if form.is_valid():
        raw = {key: request.POST.getlist(key) for key in FILTER_KEYS}
        try:
            view = saved_views.create_saved_view(
                user,
                name=form.cleaned_data["name"],
                filters={**raw, "view": queue.slug},
                sort=request.POST.get("sort") or None,
                shared=bool(form.cleaned_data.get("shared")),
            )
        except InvalidInput as error:
            form.add_action_error(error, {"view": "name", "sort": "name", **dict.fromkeys(FILTER_KEYS, "name")})
        else:
            messages.success(request, f"Saved the view “{view.name}”.")
            return HttpResponseRedirect(reverse("tickets:saved_view", kwargs={"view_id": view.pk}))
    # Show the page the form was on, with the error next to the name.
    request.GET = QueryDict(_origin(request).partition("?")[2])
    return _render(request, queue=queue, save_form=form, status=422)


@require_POST
@staff_required
def edit_saved_view(request: HttpRequest, view_id: int) -> HttpResponse:
    user = page_user(request)
    saved = saved_views.get_saved_view(user, view_id)
    saved_views.require_can_edit(user, saved)
    form = SavedViewForm(request.POST, may_share=saved_views.may_share(user), prefix="edit")
    if form.is_valid():
        shared = bool(form.cleaned_data.get("shared")) if "shared" in form.fields else saved.shared
        try:
            saved_views.update_saved_view(user, saved, name=form.cleaned_data["name"], shared=shared)
        except InvalidInput as error:
            form.add_action_error(error)
        else:
            messages.success(request, f"Saved the view “{saved.name}”.")
            return HttpResponseRedirect(reverse("tickets:saved_view", kwargs={"view_id": saved.pk}))
    saved.refresh_from_db()
    request.GET = QueryDict()
    return _render(request, queue=saved_views.saved_queue(saved), saved=saved, edit_form=form, status=422)


@require_POST
@staff_required
def delete_saved_view(request: HttpRequest, view_id: int) -> HttpResponse:
    user = page_user(request)
    saved = saved_views.get_saved_view(user, view_id)
    saved_views.delete_saved_view(user, saved)
    messages.success(request, f"Deleted the view “{saved.name}”.")
    return HttpResponseRedirect(reverse("tickets:inbox"))


@require_POST
@agent_required
def bulk(request: HttpRequest) -> HttpResponse:
    """Apply one change to the selected tickets, then go back to the same view (filters and
    cursor kept). All or nothing: any problem changes no ticket."""
    user = page_user(request)
    back = _origin(request)
    action = request.POST.get("action", "")
    value = request.POST.get(bulk_changes.VALUE_FIELDS.get(action, ""), "")
    try:
        selection = bulk_changes.parse_selection(request.POST.getlist("ticket"))
        changed = bulk_changes.apply(user, selection, action=action, value=value)
    except InvalidInput as error:
        problems = "; ".join(f"{field.replace('_', ' ')}: {problem}" for field, problem in error.errors.items())
        messages.error(request, f"Nothing was changed. {problems[:1].upper()}{problems[1:]}.")
    except StaleVersion:
        messages.error(
            request, "Nothing was changed: a selected ticket was changed by someone else meanwhile. Check and retry."
        )
    else:
        if action == "merge":
            messages.success(request, f"{changed} tickets merged.")
        else:
            messages.success(request, f"{changed} ticket{'' if changed == 1 else 's'} updated.")
    return HttpResponseRedirect(back)


urlpatterns = [
    path("inbox", inbox, name="inbox"),
    path("inbox/bulk", bulk, name="bulk"),
    path("inbox/saved", create_saved_view, name="saved_view_create"),
    path("inbox/saved/<int:view_id>", saved_view, name="saved_view"),
    path("inbox/saved/<int:view_id>/edit", edit_saved_view, name="saved_view_edit"),
    path("inbox/saved/<int:view_id>/delete", delete_saved_view, name="saved_view_delete"),
    path("inbox/<slug:view>", inbox, name="inbox_view"),
]
