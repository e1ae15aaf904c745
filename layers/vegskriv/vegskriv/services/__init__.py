"""Submission services, editions and master services (spec/services.md). Not built yet."""
