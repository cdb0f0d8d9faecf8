"""The demo: clearly labelled synthetic directories, simulated samples and lab results, and the demo's steps.

Above the domain and below the faces: nothing in gi/, geo_data/, sampling/, maps/ or reports/ imports it."""
