"""Sign-in pages and the front door: who goes where after signing in."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from deskpilot.accounts import actions, tasks
from deskpilot.accounts.backends import client_address, signin_blocked
from deskpilot.accounts.forms import SignInForm, SignInLinkForm
from deskpilot.accounts.models import STAFF_ROLES, Role, User
from deskpilot.core import ratelimit

BACKEND = "deskpilot.accounts.backends.RateLimitedEmailBackend"
# Link requests allowed per address and per client within an hour: enough for a typo or two,
# too few to flood someone's mailbox.
LINKS_PER_HOUR = 5
# Both sign-in forms share a page and have an email field; their ids must differ.
LINK_FORM_IDS = "link_%s"


def home_for(user: User) -> str:
    """Where a signed-in person starts: customers in the portal, staff in their inbox."""
    if user.role == Role.CUSTOMER:
        return reverse("portal:tickets")
    if user.role in STAFF_ROLES:
        return reverse("tickets:inbox")
    return reverse("accounts:signin")


def _next_url(request: HttpRequest, user: User) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted and url_has_allowed_host_and_scheme(wanted, {request.get_host()}, require_https=request.is_secure()):
        # A customer following a link to a staff page would only meet a 404; send them home.
        if user.role == Role.CUSTOMER and not wanted.startswith("/portal/"):
            return home_for(user)
        return wanted
    return home_for(user)


def front_door(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("accounts:signin")
    return redirect(home_for(request.user))


@require_http_methods(["GET", "POST"])
def signin(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and request.method == "GET":
        return redirect(_next_url(request, request.user))
    form = SignInForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"].lower()
        user = None
        # Django's authenticate() turns the backend's refusal into a plain None; ask first, so
        # the page can say why.
        if signin_blocked(email, request):
            form.add_error(None, "Too many failed sign-ins. Wait a few minutes, or use a sign-in link.")
            status = 429
        else:
            user = authenticate(request, email=email, password=form.cleaned_data["password"])
            if user is None:
                form.add_error(None, "That email and password do not match an account.")
        if user is not None:
            login(request, user, backend=BACKEND)
            return redirect(_next_url(request, user))
    if request.method == "POST" and status == 200 and form.errors:
        status = 422 if any(k != "__all__" for k in form.errors) else 401
    context = {"form": form, "link_form": SignInLinkForm(auto_id=LINK_FORM_IDS), "next": request.GET.get("next", "")}
    return render(request, "accounts/signin.html", context, status=status)


@require_http_methods(["GET", "POST"])
def signin_link_request(request: HttpRequest) -> HttpResponse:
    form = SignInLinkForm(request.POST or None, auto_id=LINK_FORM_IDS)
    if request.method == "POST" and form.is_valid():
        address = form.cleaned_data["email"].lower()
        per_address = ratelimit.hit("signin-link", f"email:{address}", 3600)
        per_client = ratelimit.hit("signin-link", f"addr:{client_address(request)}", 3600)
        if per_address <= LINKS_PER_HOUR and per_client <= LINKS_PER_HOUR * 4:
            # In the job worker, with the configured DESKPILOT_BASE_URL: the page answers alike
            # for known and unknown addresses, and the link never follows the request's Host.
            tasks.send_signin_link(address)
        # The same answer whether or not the address has an account.
        return render(request, "accounts/link_sent.html", {"email": address})
    status = 422 if request.method == "POST" else 200
    return render(request, "accounts/signin.html", {"form": SignInForm(), "link_form": form}, status=status)


@require_http_methods(["GET", "POST"])
def signin_link(request: HttpRequest, key: str) -> HttpResponse:
    if request.method == "GET":
        # Mail scanners open links; only the button below spends the link.
        account = actions.signin_link_account(key)
        return render(request, "accounts/link_confirm.html", {"account": account}, status=200 if account else 410)
    user = actions.use_signin_link(key)
    if user is None:
        return render(request, "accounts/link_confirm.html", {"account": None}, status=410)
    login(request, user, backend=BACKEND)
    messages.success(request, f"Signed in as {user.email}.")
    return HttpResponseRedirect(home_for(user))


@require_POST
def signout(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, "You are signed out.")
    return redirect(settings.LOGIN_URL)
