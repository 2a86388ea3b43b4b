from django.conf import settings
from django.utils import translation


class KoreanFirstLocaleMiddleware:
    """Activate Korean unless the user switched language explicitly.

    Django's LocaleMiddleware would follow the browser's Accept-Language; our users are
    Korean staff on whatever browser the office installed, so only the language cookie
    set by the explicit switch (django.views.i18n.set_language) counts.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response
