"""No request body over ``API_MAX_BODY_BYTES`` reaches a view, whatever its type.

The API's parsers cap what they read (``smplat/api/parsers.py``), but a plain Django view
(the admin's "Run export now" form, the record form) gets its body parsed before it runs:
the CSRF check reads ``request.POST``, and for multipart that spools every file to disk.
Django's own ``DATA_UPLOAD_MAX_MEMORY_SIZE`` counts a multipart body's plain fields, never
its files. No page of this site takes an upload, so a declared length over the cap is
answered 413 before anything reads the body. (A body without a length, chunked, is not
read by Django under WSGI at all.)
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse, JsonResponse

from smplat.api.exceptions import error_body


class RequestBodyLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.API_MAX_BODY_BYTES
        if length > limit:
            message = f"The request body is larger than {limit} bytes."
            if request.path.startswith("/api/"):
                return JsonResponse(error_body("payload_too_large", message), status=413)
            return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
