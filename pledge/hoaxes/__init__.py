"""Hoax reports from supporters, their images, duplicate clustering and the public gallery."""
