<?php

declare(strict_types=1);

/**
 * A URL slug: lower-case words joined by single dashes.
 */
function slugify(string $text): string
{
    $slug = preg_replace('/[^\p{L}\p{N}]+/u', '-', mb_strtolower($text));
    return trim((string) $slug, '-');
}
