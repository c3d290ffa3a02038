"""Partner statistics, charts rendered as SVG on the server, and exports."""
