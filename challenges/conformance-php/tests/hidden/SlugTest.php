<?php

declare(strict_types=1);

use PHPUnit\Framework\TestCase;

require_once __DIR__ . '/slug.php';
require_once __DIR__ . '/SlugCases.php';

final class SlugTest extends TestCase
{
    /**
     * @dataProvider cases
     */
    public function testSlugify(string $text, string $slug): void
    {
        $this->assertSame($slug, slugify($text));
    }

    /**
     * @return array<string, array{string, string}>
     */
    public static function cases(): array
    {
        return SlugCases::all();
    }

    public function testPunctuationOnly(): void
    {
        $this->assertSame('', slugify('!?!'));
    }

    public function testIncompleteByTheAuthor(): void
    {
        $this->markTestIncomplete('transliteration is not specified yet');
    }
}
