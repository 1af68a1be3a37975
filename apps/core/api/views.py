"""ApiView: the base class of every Keyhouse API view."""

from rest_framework.views import APIView


class ApiView(APIView):
    """APIView that applies rate limits before authentication and permission checks.

    DRF checks throttles last, so floods without credentials and secret guessing would
    never be limited. Here the address limit is counted first on every request; the
    per-credential limit follows (it authenticates on first use of request.user).
    """

    def initial(self, request, *args, **kwargs):
        self.check_throttles(request)
        self._throttles_checked = True
        super().initial(request, *args, **kwargs)

    def check_throttles(self, request):
        if not getattr(self, "_throttles_checked", False):
            super().check_throttles(request)
