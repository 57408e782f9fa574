from django.urls import path

from adesso.front.views import attachments, auth, contacts, conversation, inbox, notifications, search, silence, team
from adesso.front.views import coach as coach_views
from adesso.front.views import reports as report_views

app_name = "front"

urlpatterns = [
    path("", inbox.inbox, name="inbox"),
    path("inbox/list", inbox.inbox_list, name="inbox_list"),
    path("inbox/tabs", inbox.inbox_tabs, name="inbox_tabs"),
    path("login/", auth.LoginView.as_view(), name="login"),
    path("logout/", auth.LogoutView.as_view(), name="logout"),
    path("language", auth.set_language, name="language"),
    path("c/<str:code>/", conversation.conversation, name="conversation"),
    path("c/<str:code>/header", conversation.header, name="conversation_header"),
    path("c/<str:code>/timeline", conversation.timeline, name="conversation_timeline"),
    path("c/<str:code>/reply", conversation.reply, name="reply"),
    path("c/<str:code>/assign", conversation.assign, name="assign"),
    path("c/<str:code>/status", conversation.change_status, name="status"),
    path("c/<str:code>/snooze", conversation.snooze, name="snooze"),
    path("c/<str:code>/priority", conversation.set_priority, name="priority"),
    path("contacts/", contacts.contact_list, name="contacts"),
    path("contacts/<str:code>/", contacts.contact, name="contact"),
    path("contacts/<str:code>/edit", contacts.edit, name="contact_edit"),
    path("contacts/<str:code>/merge", contacts.merge, name="contact_merge"),
    path("merges/<int:merge_id>/undo", contacts.undo_merge, name="merge_undo"),
    path("search", search.search, name="search"),
    path("silence", silence.silence, name="silence"),
    path("presence", team.presence, name="presence"),
    path("notifications", notifications.notifications, name="notifications"),
    path("notifications/bell", notifications.bell, name="bell"),
    path("notifications/read", notifications.read_all, name="notifications_read_all"),
    path("notifications/<int:notification_id>/read", notifications.read, name="notification_read"),
    path("team", team.team, name="team"),
    path("team/<str:code>", team.team_agent, name="team_agent"),
    path("settings/autoreplies", team.autoreplies, name="autoreplies"),
    path("c/<str:code>/coach", coach_views.coach_check, name="coach_check"),
    path("coach/", coach_views.coach_stats, name="coach_stats"),
    path("coach/rules", coach_views.coach_rules, name="coach_rules"),
    path("reports/", report_views.reports, name="reports"),
    path("reports/csv", report_views.reports_csv, name="reports_csv"),
    path("reports/digest", report_views.digest_preview, name="digest_preview"),
    path("planner/", report_views.staffing_planner, name="planner"),
    path("attachments/<str:code>", attachments.attachment, name="attachment"),
]
