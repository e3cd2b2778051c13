<?php

declare(strict_types=1);

/**
 * A URL slug: lower-case words joined by single dashes.
 */
function slugify(string $text): string
{
    $slug = preg_replace('/[^a-z0-9]+/', '-', strtolower($text));
    return trim((string) $slug, '-');
}
