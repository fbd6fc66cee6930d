#!/bin/sh
# What doxygen does not warn about: an enum value without a description.
# Reads doxygen's XML output (docs/api/Doxyfile.in: GENERATE_XML) and fails,
# naming them, if any enum value of include/kmqtt/ is undocumented.
# Run as: sh check_doc_xml.sh <xml dir>
set -u
dir=$1
ls "$dir"/*_8h.xml >/dev/null 2>&1 || { echo "check_doc_xml: no XML in $dir"; exit 1; }
bad=$(awk '
    /<enumvalue / { inval = 1; name = ""; text = 0; desc = 0; next }
    !inval { next }
    /<name>/ { n = $0; sub(/.*<name>/, "", n); sub(/<\/name>.*/, "", n); name = n; next }
    /<briefdescription>|<detaileddescription>/ { desc = 1; next }
    /<\/enumvalue>/ { if (!text) print FILENAME ": " name; inval = 0; next }
    desc {
        t = $0
        gsub(/<[^>]*>/, "", t)
        gsub(/[ \t]/, "", t)
        if (t != "") text = 1
    }
' "$dir"/*_8h.xml | sed 's|.*/||' | sort -u)
if [ -n "$bad" ]; then
    echo "undocumented enum values (give each a /**< ... */):"
    echo "$bad"
    exit 1
fi
echo "every enum value is documented"
