from . import site_diary
