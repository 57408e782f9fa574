import os

from django.core.wsgi import get_wsgi_application

from adesso.lib.bodylimit import BodyLimitWSGI

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adesso.settings")
# Outermost: a body over the path's limit is refused before Django reads it.
application = BodyLimitWSGI(get_wsgi_application())
