"""Offline Folium maps and static map images."""
