"""files.getUploadURLExternal and files.completeUploadExternal: Slack's two-step upload.

Between the two calls the client POSTs the bytes to the upload URL, which the sandbox serves
itself (see routes.py).
"""

from __future__ import annotations

from bot.sandbox.args import Args
from bot.sandbox.content import message_content
from bot.sandbox.entities import JSON, Channel, UploadedFile
from bot.sandbox.errors import SlackError
from bot.sandbox.methods.call import Call, Handler


def get_upload_url(call: Call) -> JSON:
    workspace, args = call.workspace, call.args
    filename = args.text("filename", missing="missing_argument")
    length = args.integer("length", default=-1)
    if length < 0:
        raise SlackError("missing_argument")
    upload = UploadedFile(
        id=workspace.new_id("F"),
        filename=filename,
        length=length,
        user=call.caller.id,
        created=int(workspace.now()),
        alt_txt=args.optional_text("alt_txt") or "",
    )
    workspace.files[upload.id] = upload
    return {"upload_url": f"{call.base_url}/upload/{upload.id}", "file_id": upload.id}


def complete_upload(call: Call) -> JSON:
    workspace, args = call.workspace, call.args
    uploads = _uploaded_files(call)
    channels = _share_targets(call)
    # The message that carries the files says the initial comment, or what its blocks say.
    comment = Args(
        {"text": args.values.get("initial_comment"), "blocks": args.values.get("blocks")}
    )
    content = message_content(comment, require_content=False)
    for channel in channels:
        message = workspace.post(
            channel,
            call.caller.id,
            content,
            thread_ts=args.optional_text("thread_ts") or None,
            files=uploads,
        )
        for upload in uploads:
            upload.shared_to.append(message.channel)
    return {"files": [upload.to_slack(workspace.team) for upload in uploads]}


def _uploaded_files(call: Call) -> list[UploadedFile]:
    listed = call.args.decoded("files")
    if not isinstance(listed, list) or not listed:
        raise SlackError("invalid_arguments")
    uploads = []
    for entry in listed:
        if not isinstance(entry, dict):
            raise SlackError("invalid_arguments")
        upload = call.workspace.files.get(str(entry.get("id", "")))
        # A file whose bytes never arrived cannot be completed.
        if upload is None or upload.content is None:
            raise SlackError("file_not_found")
        upload.title = str(entry.get("title") or upload.title or upload.filename)
        uploads.append(upload)
    return uploads


def _share_targets(call: Call) -> list[Channel]:
    args = call.args
    ids = []
    if args.has("channel_id"):
        ids.append(args.text("channel_id"))
    if args.has("channels"):
        ids.extend(args.id_list("channels"))
    channels = []
    for channel_id in dict.fromkeys(ids):
        channel = call.workspace.channel(channel_id)
        if call.caller.id not in channel.members:
            raise SlackError("not_in_channel")
        channels.append(channel)
    return channels


HANDLERS: dict[str, Handler] = {
    "files.getUploadURLExternal": get_upload_url,
    "files.completeUploadExternal": complete_upload,
}
