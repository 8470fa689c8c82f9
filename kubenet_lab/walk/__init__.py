"""The packet walk: one loop over a registry of device handlers (``registry``), from
the source to a socket, a refusal or a drop, hop by hop (``trace``)."""
