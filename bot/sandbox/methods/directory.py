"""Who is who: api.test, auth.test, users.*, usergroups.* and team.info."""

from __future__ import annotations

from bot.sandbox.entities import JSON
from bot.sandbox.errors import SlackError
from bot.sandbox.methods.call import Call, Handler


def api_test(call: Call) -> JSON:
    # api.test echoes its arguments, and fails on purpose when given `error`.
    error = call.args.optional_text("error")
    if error:
        raise SlackError(error)
    return {"args": dict(call.args.values)}


def auth_test(call: Call) -> JSON:
    team = call.workspace.team
    identity: JSON = {
        "url": f"https://{team.domain}.slack.com/",
        "team": team.name,
        "user": call.caller.name,
        "team_id": team.id,
        "user_id": call.caller.id,
        "is_enterprise_install": False,
    }
    if call.caller.bot_id is not None:
        identity["bot_id"] = call.caller.bot_id
    return identity


def users_info(call: Call) -> JSON:
    workspace = call.workspace
    user = workspace.user(call.args.text("user", missing="user_not_found"))
    return {"user": user.to_slack(workspace.team.id, workspace.now())}


def users_lookup_by_email(call: Call) -> JSON:
    workspace = call.workspace
    email = call.args.text("email", missing="users_not_found").lower()
    for user in workspace.users.values():
        if user.email and user.email.lower() == email:
            return {"user": user.to_slack(workspace.team.id, workspace.now())}
    raise SlackError("users_not_found")


def usergroups_list(call: Call) -> JSON:
    workspace, args = call.workspace, call.args
    include_users = args.flag("include_users")
    include_count = args.flag("include_count")
    return {
        "usergroups": [
            group.to_slack(
                workspace.team.id, include_users=include_users, include_count=include_count
            )
            for group in workspace.usergroups.values()
        ]
    }


def usergroups_users_list(call: Call) -> JSON:
    group_id = call.args.text("usergroup", missing="no_such_subteam")
    group = call.workspace.usergroups.get(group_id)
    if group is None:
        raise SlackError("no_such_subteam")
    return {"users": list(group.members)}


def team_info(call: Call) -> JSON:
    team = call.workspace.team
    asked = call.args.optional_text("team")
    if asked and asked != team.id:
        raise SlackError("team_not_found")
    return {"team": team.to_slack()}


HANDLERS: dict[str, Handler] = {
    "api.test": api_test,
    "auth.test": auth_test,
    "users.info": users_info,
    "users.lookupByEmail": users_lookup_by_email,
    "usergroups.list": usergroups_list,
    "usergroups.users.list": usergroups_users_list,
    "team.info": team_info,
}

# api.test is the one method Slack answers without a token.
NO_AUTH = frozenset({"api.test"})
